using System.Text.RegularExpressions;
using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Tokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Rooms;

/// <summary>
/// Validates <c>WaitingRoom</c> at start-up and on every reload. Each failure names the key, what is
/// wrong and an example of a right value, so an operator can fix it without reading code.
/// </summary>
internal sealed partial class WaitingRoomOptionsValidator(IHostEnvironment environment, IConfiguration? configuration = null) : IValidateOptions<WaitingRoomOptions>
{
    /// <summary>
    /// The slowest refill a room takes (configuration or the admin API): one admission in under 3 hours. Anything
    /// slower is a room that admits nobody, which a pause says honestly, and rounds to a rate of 0 in the ETA.
    /// </summary>
    public const double MinRefillPerSecond = 0.0001;

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    internal static partial Regex RoomIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,32}\z")]
    private static partial Regex KeyIdPattern();

    public ValidateOptionsResult Validate(string? name, WaitingRoomOptions options)
    {
        var errors = new List<string>();
        // The binder silently drops a room one of whose values does not convert (Capacity: "lots"): that room
        // would vanish from a running gateway. Bind each configured room alone to name the bad value instead.
        foreach (var section in configuration?.GetSection($"{WaitingRoomOptions.SectionName}:Rooms").GetChildren() ?? [])
        {
            try
            {
                section.Get<RoomOptions>();
            }
            catch (InvalidOperationException ex)
            {
                errors.Add($"{section.Path}: {ex.Message} Use a whole number for Capacity and MaxQueueLength, a decimal for RefillPerSecond, hh:mm:ss for durations and an ISO 8601 instant for times.");
            }
        }
        foreach (var (id, room) in options.Rooms)
        {
            var key = $"WaitingRoom:Rooms:{id}";
            if (!RoomIdPattern().IsMatch(id))
                errors.Add($"{key}: the room id must be 1-64 letters, digits, '-' or '_' (e.g. 'concert-2026').");
            if (room.Capacity < 1)
                errors.Add($"{key}:Capacity is {room.Capacity}; it must be a whole number of admissions >= 1 (e.g. 100).");
            if (!(room.RefillPerSecond >= MinRefillPerSecond) || room.RefillPerSecond > 1_000_000)
                errors.Add($"{key}:RefillPerSecond is {room.RefillPerSecond}; it must be >= 0.0001 (one admission in under 3 hours) and <= 1000000 admissions per second (e.g. 10 or 0.5).");
            if (room.AdmissionTtl <= TimeSpan.Zero)
                errors.Add($"{key}:AdmissionTtl is {room.AdmissionTtl}; it must be a positive TimeSpan (e.g. 00:10:00).");
            if (room.AbandonAfter < TimeSpan.FromSeconds(1))
                errors.Add($"{key}:AbandonAfter is {room.AbandonAfter}; it must be at least one second (e.g. 00:01:00).");
            if (room.MaxQueueLength < 1)
                errors.Add($"{key}:MaxQueueLength is {room.MaxQueueLength}; it must be >= 1 (e.g. 1000000).");
            if (room.MaxActive is < 1)
                errors.Add($"{key}:MaxActive is {room.MaxActive}; it must be >= 1 (e.g. 5000), or removed for no cap.");
            ValidateSchedule(errors, key, room);
            ValidateProofOfWork(errors, key + ":ProofOfWork", room.ProofOfWork);
            ValidateAdaptive(errors, key, room);
        }

        ValidateKeys(errors, "WaitingRoom:SigningKeys", options.SigningKeys);
        ValidateKeys(errors, "WaitingRoom:Identity:Keys", options.Identity.Keys);
        if (options.Identity.Required && options.Identity.Keys.Count == 0)
            errors.Add("WaitingRoom:Identity:Required is true but WaitingRoom:Identity:Keys is empty: no user_token could ever be verified. Add a key (Id and Secret, base64 of 32+ bytes) or set Required to false.");
        if (!Enum.IsDefined(options.Cookie.Secure))
            errors.Add($"WaitingRoom:Cookie:Secure is {options.Cookie.Secure}; use Auto or Always.");

        if (options.SigningKeys.Count == 0 && !environment.IsDevelopment())
            errors.Add("WaitingRoom:SigningKeys: no admission-token signing key is configured. Set WaitingRoom:SigningKeys:0:Id and WaitingRoom:SigningKeys:0:Secret (base64 of 32+ random bytes, e.g. from: openssl rand -base64 32). Only the Development environment makes an ephemeral key.");

        if (options.JoinsPerClientPerMinute < 0)
            errors.Add($"WaitingRoom:JoinsPerClientPerMinute is {options.JoinsPerClientPerMinute}; use 0 to turn the limit off or a positive number (e.g. 120).");
        if (options.MaxPlacesPerClient < 0)
            errors.Add($"WaitingRoom:MaxPlacesPerClient is {options.MaxPlacesPerClient}; use 0 to turn the cap off or a positive number (e.g. 25).");
        if (options.PollsPerClientPerMinute < 0)
            errors.Add($"WaitingRoom:PollsPerClientPerMinute is {options.PollsPerClientPerMinute}; use 0 to turn the limit off or a positive number (e.g. 1200).");
        if (options.MaintenanceInterval < TimeSpan.FromMilliseconds(50) || options.MaintenanceInterval > TimeSpan.FromSeconds(5))
            errors.Add($"WaitingRoom:MaintenanceInterval is {options.MaintenanceInterval}; it must be between 00:00:00.05 and 00:00:05: promotion happens in the tick (e.g. 00:00:00.2).");
        if (options.RetryAfter < TimeSpan.FromSeconds(1))
            errors.Add($"WaitingRoom:RetryAfter is {options.RetryAfter}; it must be at least one second (e.g. 00:00:05).");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateSchedule(List<string> errors, string key, RoomOptions room)
    {
        if (room.PrequeueFrom is not null && room.OpensAt is null)
            errors.Add($"{key}:PrequeueFrom is set without OpensAt; a pre-queue needs an opening (e.g. OpensAt \"2026-12-24T10:00:00+09:00\").");
        if (room.PrequeueFrom is { } from && room.OpensAt is { } opens && from >= opens)
            errors.Add($"{key}:PrequeueFrom ({from:O}) must be before OpensAt ({opens:O}).");
        if (room.ShuffleAtOpen && room.PrequeueFrom is null)
            errors.Add($"{key}:ShuffleAtOpen is true without PrequeueFrom: only a pre-queue can be shuffled. Set PrequeueFrom (e.g. an hour before OpensAt).");
        if (room.JoinsCloseAt is { } closes && room.OpensAt is { } opening && closes <= opening)
            errors.Add($"{key}:JoinsCloseAt ({closes:O}) must be after OpensAt ({opening:O}).");
    }

    private static void ValidateProofOfWork(List<string> errors, string key, ProofOfWorkOptions pow)
    {
        const int max = ProofOfWorkOptions.MaxBits;
        if (pow.Difficulty is < 1 or > max)
            errors.Add($"{key}:Difficulty is {pow.Difficulty}; it must be 1-{max} leading zero bits (e.g. 15, about a second on a phone; each bit doubles the work).");
        if (pow.ChallengeTtl < TimeSpan.FromSeconds(10) || pow.ChallengeTtl > TimeSpan.FromHours(1))
            errors.Add($"{key}:ChallengeTtl is {pow.ChallengeTtl}; it must be between 00:00:10 and 01:00:00 and leave a slow phone time to solve (e.g. 00:02:00).");
        var auto = pow.AutoDifficulty;
        if (!double.IsFinite(auto.JoinsPerSecond) || auto.JoinsPerSecond < 0)
            errors.Add($"{key}:AutoDifficulty:JoinsPerSecond is {auto.JoinsPerSecond}; use 0 to turn the automatic mode off or a rate of new places per second (e.g. 200).");
        if (auto.MaxDifficulty is { } ceiling && (ceiling < pow.Difficulty || ceiling > max))
            errors.Add($"{key}:AutoDifficulty:MaxDifficulty is {ceiling}; it must be between Difficulty ({pow.Difficulty}) and {max} (e.g. {Math.Min(max, pow.Difficulty + 4)}), or removed for Difficulty + 4.");
        if (auto.Window < TimeSpan.FromSeconds(1) || auto.Window > TimeSpan.FromMinutes(10))
            errors.Add($"{key}:AutoDifficulty:Window is {auto.Window}; it must be between 00:00:01 and 00:10:00 (e.g. 00:00:10).");
    }

    private static void ValidateAdaptive(List<string> errors, string key, RoomOptions room)
    {
        var adaptive = room.Adaptive;
        key += ":Adaptive";
        // Against the room's own rate only when on: a room admitting 0.5/s keeps the default floor of 1 while adaptation is off.
        // The same minimum as the room's own rate: below it the adaptive rate would be a pause that calls itself a rate.
        if (!(adaptive.Floor >= MinRefillPerSecond) || (adaptive.Enabled && !(adaptive.Floor <= room.RefillPerSecond)))
            errors.Add($"{key}:Floor is {adaptive.Floor}; it must be >= 0.0001 and at most the room's RefillPerSecond ({room.RefillPerSecond}) admissions per second (e.g. {Example(room.RefillPerSecond / 10)}).");
        if (!(adaptive.IncreaseStep > 0) || adaptive.IncreaseStep > 1_000_000)
            errors.Add($"{key}:IncreaseStep is {adaptive.IncreaseStep}; it must be > 0 and <= 1000000 admissions per second added per control period (e.g. {Example(room.RefillPerSecond / 20)}).");
        if (!(adaptive.DecreaseFactor > 0) || !(adaptive.DecreaseFactor < 1))
            errors.Add($"{key}:DecreaseFactor is {adaptive.DecreaseFactor}; it must be between 0 and 1, exclusive: the margin a decrease leaves below what the backends took (e.g. 0.9).");
        if (adaptive.TargetLatency < TimeSpan.FromMilliseconds(1) || adaptive.TargetLatency > TimeSpan.FromMinutes(10))
            errors.Add($"{key}:TargetLatency is {adaptive.TargetLatency}; it must be between 00:00:00.001 and 00:10:00 (e.g. 00:00:00.500).");
        if (!(adaptive.ErrorRatio > 0) || !(adaptive.ErrorRatio < 1))
            errors.Add($"{key}:ErrorRatio is {adaptive.ErrorRatio}; it must be between 0 and 1, exclusive: the share of overload responses that counts as overload (e.g. 0.02).");
        if (adaptive.ControlPeriod < TimeSpan.FromSeconds(1) || adaptive.ControlPeriod > TimeSpan.FromMinutes(10))
            errors.Add($"{key}:ControlPeriod is {adaptive.ControlPeriod}; it must be between 00:00:01 and 00:10:00, at least twice the time from admission to the backend calls (e.g. 00:00:05).");
    }

    private static string Example(double value) => Math.Max(0.1, Math.Round(value, 1)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void ValidateKeys(List<string> errors, string section, List<SigningKeyOptions> keys)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            var signingKey = keys[i];
            var key = $"{section}:{i}";
            if (signingKey.Id is null || !KeyIdPattern().IsMatch(signingKey.Id))
                errors.Add($"{key}:Id must be 1-32 letters, digits, '-' or '_' (e.g. 'k2026a').");
            else if (!seen.Add(signingKey.Id))
                errors.Add($"{key}:Id '{signingKey.Id}' is used twice; every key needs its own id.");
            if (SigningKeyOptions.TryDecodeSecret(signingKey.Secret) is not { Length: >= SigningKeyOptions.MinimumSecretBytes })
                errors.Add($"{key}:Secret must be base64 of at least {SigningKeyOptions.MinimumSecretBytes} random bytes (make one with: openssl rand -base64 32).");
        }
    }
}
