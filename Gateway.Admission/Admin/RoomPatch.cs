using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using System.Text.RegularExpressions;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Admin;

/// <summary>
/// Reads a <c>PATCH /admin/v1/rooms/{id}</c> body into changes of the room's control hash: each field sets an
/// override, <c>null</c> removes it (back to configuration). Anything else (an unknown field, a wrong type or
/// range, a schedule that contradicts itself) is refused naming the field, and nothing is changed.
/// </summary>
internal static partial class RoomPatch
{
    public const int MaxCapacity = 1_000_000;
    public const double MaxRefill = 1_000_000;
    public const int MaxActiveLimit = 100_000_000;
    public const string Example = "{\"state\": \"paused\"} or {\"refill_per_second\": 25, \"max_active\": 5000}";

    /// <summary>The fields PATCH takes, by their API name, and the control-hash field each sets.</summary>
    public static readonly IReadOnlyList<(string Api, string Store)> Fields =
    [
        ("state", ControlFields.State),
        ("capacity", ControlFields.Capacity),
        ("refill_per_second", ControlFields.Refill),
        ("max_active", ControlFields.MaxActive),
        ("prequeue_from", ControlFields.PrequeueFrom),
        ("opens_at", ControlFields.OpensAt),
        ("joins_close_at", ControlFields.JoinsCloseAt),
        ("shuffle_at_open", ControlFields.Shuffle),
    ];

    private static readonly string FieldList = string.Join(", ", Fields.Select(f => f.Api));

    // An instant must say its offset: a bare local time would mean something else on every machine.
    [GeneratedRegex(@"(Z|z|[+-]\d{2}:\d{2})\z")]
    private static partial Regex HasOffset();

    /// <summary>
    /// The changes (control field to value, null = remove), or what is wrong: the field (null when the body as a
    /// whole is), and whether it is a value (<c>INVALID_VALUE</c>) rather than the request's shape (<c>INVALID_REQUEST</c>).
    /// </summary>
    public static (Dictionary<string, string?>? Changes, string? Field, string? Problem, bool BadValue) Parse(ReadOnlySpan<byte> body, Room room, RoomSnapshot? current)
    {
        // JsonDocument checks a string's UTF-8 only when it is read: a field name or value of invalid bytes would
        // parse here and throw later, as a 500.
        if (!Utf8.IsValid(body))
            return (null, null, "The body must be UTF-8 JSON like " + Example + ".", false);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4, AllowDuplicateProperties = false });
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-name check decodes each name, and a lone surrogate does not decode.
            return (null, null, "The body must be a JSON object like " + Example + ".", false);
        }
        using (document)
        {
            try
            {
                return Changes(document, room, current);
            }
            catch (InvalidOperationException)
            {
                // A name or string that escapes a lone surrogate ("\ud800") is valid UTF-8 and valid JSON, and throws only when read.
                return (null, null, "The body must be UTF-8 JSON like " + Example + ".", false);
            }
        }
    }

    private static (Dictionary<string, string?>? Changes, string? Field, string? Problem, bool BadValue) Changes(JsonDocument document, Room room, RoomSnapshot? current)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            return (null, null, "The body must be a JSON object like " + Example + ".", false);
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var store = Fields.FirstOrDefault(f => f.Api == property.Name).Store;
            if (store is null)
                return (null, Printable(property.Name), $"'{Printable(property.Name)}' is not a room setting; PATCH takes {FieldList}.", false);
            var (value, problem) = property.Value.ValueKind == JsonValueKind.Null ? (null, null) : Read(property.Name, property.Value);
            if (problem is not null)
                return (null, property.Name, problem, true);
            changes[store] = value;
        }
        if (changes.Count == 0)
            return (null, null, $"Name at least one of {FieldList}, e.g. {Example}.", false);
        var (field, schedule) = CheckSchedule(changes, room, current);
        return schedule is null ? (changes, null, null, false) : (null, field, schedule, true);
    }

    private static (string? Value, string? Problem) Read(string field, JsonElement value)
    {
        switch (field)
        {
            case "state":
                return value.ValueKind == JsonValueKind.String && value.GetString() is "open" or "paused" or "closed"
                    ? (value.GetString(), null)
                    : (null, "state must be \"open\", \"paused\" or \"closed\" (or null to remove the override).");
            case "capacity":
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var capacity) && capacity is >= 1 and <= MaxCapacity
                    ? (capacity.ToString(CultureInfo.InvariantCulture), null)
                    : (null, $"capacity must be a whole number of admissions from 1 to {MaxCapacity} (e.g. 100), or null to remove the override.");
            case "refill_per_second":
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var refill) && double.IsFinite(refill) && refill >= WaitingRoomOptionsValidator.MinRefillPerSecond && refill <= MaxRefill
                    ? (refill.ToString("R", CultureInfo.InvariantCulture), null)
                    : (null, $"refill_per_second must be a number of admissions per second from 0.0001 to {MaxRefill} (e.g. 25 or 0.5), or null to remove the override; to stop admissions set state to \"paused\".");
            case "max_active":
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var max) && max is >= 1 and <= MaxActiveLimit
                    ? (max.ToString(CultureInfo.InvariantCulture), null)
                    : (null, $"max_active must be a whole number from 1 to {MaxActiveLimit} (e.g. 5000), or null to remove the override; to stop admissions set state to \"paused\".");
            case "shuffle_at_open":
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? (value.GetBoolean() ? "1" : "0", null)
                    : (null, "shuffle_at_open must be true or false (or null to remove the override).");
            default:
                return value.ValueKind == JsonValueKind.String && value.GetString() is { } text && HasOffset().IsMatch(text) &&
                    DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant) && instant.Year is >= 2000 and < 2200
                    ? (instant.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), null)
                    : (null, $"{field} must be an ISO 8601 instant with its offset (e.g. \"2026-12-24T10:00:00+09:00\" or \"2026-12-24T01:00:00Z\"), or null to remove the override.");
        }
    }

    /// <summary>The schedule after the change must still make sense (the same rules as configuration); only checked when the change touches it.</summary>
    private static (string? Field, string? Problem) CheckSchedule(Dictionary<string, string?> changes, Room room, RoomSnapshot? current)
    {
        string[] schedule = [ControlFields.PrequeueFrom, ControlFields.OpensAt, ControlFields.JoinsCloseAt, ControlFields.Shuffle];
        if (!schedule.Any(changes.ContainsKey))
            return (null, null);
        var options = room.Options;
        var prequeueFrom = After(changes, current, ControlFields.PrequeueFrom, options.PrequeueFrom);
        var opensAt = After(changes, current, ControlFields.OpensAt, options.OpensAt);
        var joinsCloseAt = After(changes, current, ControlFields.JoinsCloseAt, options.JoinsCloseAt);
        var was = current?.Overrides.TryGetValue(ControlFields.Shuffle, out var stored) == true ? stored == "1" : options.ShuffleAtOpen;
        var shuffle = changes.TryGetValue(ControlFields.Shuffle, out var s) ? (s is null ? options.ShuffleAtOpen : s == "1") : was;
        // The pre-queue's order is drawn as people join (a random draw, or join order): changing the rule half-way would
        // leave two kinds of order in one line. The store keeps the first joiner's rule in any case; say so here.
        if (shuffle != was && current is { Prequeued: > 0 } && changes.ContainsKey(ControlFields.Shuffle))
            return ("shuffle_at_open", $"shuffle_at_open cannot change while {current.Prequeued} people are in the pre-queue: their order was drawn as they joined ({(was ? "at random" : "in join order")}).");
        if (prequeueFrom is not null && opensAt is null)
            return (Api(changes, ControlFields.PrequeueFrom, ControlFields.OpensAt), "prequeue_from needs an opening: set opens_at too (e.g. \"2026-12-24T10:00:00+09:00\").");
        if (prequeueFrom is { } from && opensAt is { } opens && from >= opens)
            return (Api(changes, ControlFields.PrequeueFrom, ControlFields.OpensAt), $"prequeue_from ({from:O}) must be before opens_at ({opens:O}).");
        if (joinsCloseAt is { } closes && opensAt is { } opening && closes <= opening)
            return (Api(changes, ControlFields.JoinsCloseAt, ControlFields.OpensAt), $"joins_close_at ({closes:O}) must be after opens_at ({opening:O}).");
        if (shuffle && prequeueFrom is null)
            return (Api(changes, ControlFields.Shuffle, ControlFields.PrequeueFrom), "shuffle_at_open needs a pre-queue: set prequeue_from (e.g. an hour before opens_at).");
        return (null, null);
    }

    private static DateTimeOffset? After(Dictionary<string, string?> changes, RoomSnapshot? current, string field, DateTimeOffset? configured)
    {
        if (changes.TryGetValue(field, out var changed))
            return changed is null ? configured : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(changed, CultureInfo.InvariantCulture));
        return current?.Overrides.TryGetValue(field, out var stored) == true && long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : configured;
    }

    /// <summary>The API name of the first of <paramref name="candidates"/> the change touches: the field the operator should look at.</summary>
    private static string Api(Dictionary<string, string?> changes, params string[] candidates)
    {
        var store = candidates.FirstOrDefault(changes.ContainsKey) ?? candidates[0];
        return Fields.First(f => f.Store == store).Api;
    }

    private static string Printable(string name) => Clients.ClientInput.Printable(name, 64);
}
