namespace Gateway.Admission.Tokens;

/// <summary>One admission-token key, bound from <c>WaitingRoom:SigningKeys:&lt;n&gt;</c>.</summary>
public sealed record SigningKeyOptions
{
    /// <summary>The smallest secret accepted: HMAC-SHA256 keys shorter than the hash add no strength.</summary>
    public const int MinimumSecretBytes = 32;

    /// <summary>The key id carried in each token so verification finds the key during rotation.</summary>
    public string Id { get; init; } = "";

    /// <summary>Base64 of at least 32 random bytes.</summary>
    public string Secret { get; init; } = "";

    internal static byte[]? TryDecodeSecret(string? secret)
    {
        if (string.IsNullOrWhiteSpace(secret))
            return null;
        var buffer = new byte[secret.Length];
        return Convert.TryFromBase64String(secret, buffer, out var written) ? buffer[..written] : null;
    }
}
