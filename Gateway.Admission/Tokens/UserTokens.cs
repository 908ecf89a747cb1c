using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Verified identities: a <c>user_token</c> is a JWT the operator's origin signs with HS256 under a key of
/// <c>WaitingRoom:Identity:Keys</c> (chosen by its <c>kid</c> header), with claims <c>sub</c> (the user id),
/// <c>exp</c> and optionally <c>aud</c> (the event id). Validated by Microsoft.IdentityModel's
/// <see cref="JsonWebTokenHandler"/>, never by hand.
/// </summary>
internal sealed class UserTokens : IDisposable
{
    /// <summary>Longer tokens are refused unread (a JWT with a user id is a few hundred characters).</summary>
    public const int MaxLength = 2048;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly IDisposable? _subscription;
    private volatile TokenValidationParameters? _parameters;

    public UserTokens(IOptionsMonitor<WaitingRoomOptions> options)
    {
        _parameters = Build(options.CurrentValue.Identity);
        _subscription = options.OnChange(o => _parameters = Build(o.Identity));
    }

    /// <summary>True when identity keys are configured (a user token can be checked at all).</summary>
    public bool Enabled => _parameters is not null;

    /// <summary>The verified user id (<c>sub</c>) of <paramref name="token"/> for a join to <paramref name="roomId"/>, or null with the reason.</summary>
    public async Task<(string? Subject, string Problem)> ValidateAsync(string token, string roomId)
    {
        var parameters = _parameters;
        if (parameters is null)
            return (null, "this gateway has no WaitingRoom:Identity:Keys configured, so it cannot verify a user_token");
        if (token.Length > MaxLength)
            return (null, "the user_token is too long");
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
            return (null, result.Exception is SecurityTokenExpiredException ? "the user_token has expired" : "the user_token is not valid (signature, kid, algorithm or lifetime)");
        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<string>("sub", out var subject) || string.IsNullOrEmpty(subject) || subject.Length > 256)
            return (null, "the user_token has no sub claim");
        var audiences = jwt.Audiences.ToList();
        if (audiences.Count > 0 && !audiences.Contains(roomId, StringComparer.Ordinal))
            return (null, "the user_token is for another event (aud)");
        return (subject, "");
    }

    public void Dispose() => _subscription?.Dispose();

    private static TokenValidationParameters? Build(IdentityOptions identity)
    {
        if (identity.Keys.Count == 0)
            return null;
        return new TokenValidationParameters
        {
            IssuerSigningKeys = [.. identity.Keys.Select(k => new SymmetricSecurityKey(SigningKeyOptions.TryDecodeSecret(k.Secret)!) { KeyId = k.Id })],
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            // Servers keep NTP time to well under a second; an expired identity buys no more than a few seconds.
            ClockSkew = TimeSpan.FromSeconds(5),
            ValidateIssuer = false,
            // The audience is optional; when present it must name the event (checked after validation).
            ValidateAudience = false,
        };
    }
}
