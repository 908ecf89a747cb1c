using Microsoft.Extensions.Logging;

namespace Gateway.Admission.Diagnostics;

/// <summary>Every log event of the waiting room, with its event id, in one place. Tokens never appear in logs.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Embedded store started on 127.0.0.1:{Port}. It serves a single gateway instance only; set ConnectionStrings:Redis to share one queue across instances.")]
    public static partial void EmbeddedStoreStarted(ILogger logger, int port);

    [LoggerMessage(2, LogLevel.Error, "Store connection to {EndPoint} failed ({FailureType}); queue calls answer 503 until it returns, admitted users keep reaching the backends.")]
    public static partial void StoreConnectionFailed(ILogger logger, string endPoint, string failureType);

    [LoggerMessage(3, LogLevel.Information, "Store connection to {EndPoint} restored.")]
    public static partial void StoreConnectionRestored(ILogger logger, string endPoint);

    [LoggerMessage(4, LogLevel.Warning, "The store is not reachable at start-up; the gateway starts anyway and reports not ready on /readyz until it is.")]
    public static partial void StoreNotReachableAtStart(ILogger logger);

    [LoggerMessage(5, LogLevel.Warning, "Store call {Operation} for room {Room} failed: {ErrorType}: {Error}")]
    public static partial void StoreCallFailed(ILogger logger, string operation, string room, string errorType, string error);

    [LoggerMessage(6, LogLevel.Warning, "No WaitingRoom:SigningKeys configured: Development uses an ephemeral admission-token key that dies with this process and is not shared with other instances.")]
    public static partial void EphemeralSigningKey(ILogger logger);

    [LoggerMessage(7, LogLevel.Error, "{Section} configuration change rejected; the last good configuration stays in force: {Errors}")]
    public static partial void ConfigRejected(ILogger logger, string section, string errors);

    [LoggerMessage(8, LogLevel.Error, "Unhandled error answering {Method} {Path}; the client got 500 INTERNAL_ERROR")]
    public static partial void UnhandledError(ILogger logger, Exception exception, string method, string path);

    // Debug: during a flash crowd refusals come by the thousand; the waitingroom_joins_total counter carries them.
    [LoggerMessage(10, LogLevel.Debug, "Join to room {Room} refused: {Reason}")]
    public static partial void JoinRefused(ILogger logger, string room, string reason);

    [LoggerMessage(11, LogLevel.Information, "Admitted to room {Room} after waiting {WaitSeconds:F1}s")]
    public static partial void Admitted(ILogger logger, string room, double waitSeconds);

    [LoggerMessage(12, LogLevel.Information, "Room {Room}: dropped {Dropped} abandoned users, expired {Expired} admissions")]
    public static partial void Swept(ILogger logger, string room, long dropped, long expired);

    [LoggerMessage(13, LogLevel.Warning, "Maintenance of room {Room} failed: {Error}")]
    public static partial void MaintenanceFailed(ILogger logger, string room, string error);

    [LoggerMessage(14, LogLevel.Error, "Route {RouteId} is gated by room {Room}, which is not configured under WaitingRoom:Rooms; the route refuses all traffic until it is.")]
    public static partial void GateRoomNotConfigured(ILogger logger, string routeId, string room);

    [LoggerMessage(15, LogLevel.Information, "WaitingRoom configuration reloaded: {RoomCount} rooms ({Rooms})")]
    public static partial void RoomsReloaded(ILogger logger, int roomCount, string rooms);

    [LoggerMessage(16, LogLevel.Information, "Proxy configuration applied: {RouteCount} routes ({GatedCount} gated by a waiting room), {ClusterCount} clusters")]
    public static partial void ProxyConfigApplied(ILogger logger, int routeCount, int gatedCount, int clusterCount);

    [LoggerMessage(17, LogLevel.Error, "Proxy configuration rejected; the previous routes stay in force: {Error}")]
    public static partial void ProxyConfigRejected(ILogger logger, string error);

    [LoggerMessage(18, LogLevel.Error, "Proxy configuration could not be loaded; the previous routes stay in force: {Error}")]
    public static partial void ProxyConfigLoadFailed(ILogger logger, string error);

    [LoggerMessage(19, LogLevel.Information, "Room {Room}: the opening placed {Shuffled} pre-queued people in line ({Remaining} still to place)")]
    public static partial void Shuffled(ILogger logger, string room, long shuffled, long remaining);

    [LoggerMessage(20, LogLevel.Warning, "Room {Room} is now {State} (was {Previous})")]
    public static partial void RoomStateChanged(ILogger logger, string room, string previous, string state);

    [LoggerMessage(21, LogLevel.Information, "Room {Room}: a backend ended an admission (X-Waiting-Room-Command: revoke)")]
    public static partial void OriginRevoked(ILogger logger, string room);

    [LoggerMessage(26, LogLevel.Warning, "Room {Room}: a revocation ({Source}) could not reach the store; this instance refuses the admission already, and hands it to the store when it is back")]
    public static partial void RevocationKept(ILogger logger, string room, string source);

    [LoggerMessage(27, LogLevel.Error, "Room {Room}: a revocation ({Source}) could not reach the store, and {Limit} are already waiting for it: only this instance refuses that admission")]
    public static partial void RevocationLost(ILogger logger, string room, string source, int limit);

    [LoggerMessage(28, LogLevel.Information, "{Count} revocations made while the store was unreachable reached it")]
    public static partial void RevocationsDelivered(ILogger logger, int count);

    // 40-49: the admin API.
    [LoggerMessage(40, LogLevel.Warning, "Admin {KeyId} from {Client} changed room {Room} ({Action}): before {Before}, after {After}")]
    public static partial void AdminChanged(ILogger logger, string keyId, string client, string room, string action, string before, string after);

    [LoggerMessage(41, LogLevel.Warning, "Admin {KeyId} from {Client} revoked admission {AdmissionId} in room {Room} (it was in force: {WasActive})")]
    public static partial void AdminRevoked(ILogger logger, string keyId, string client, string room, string admissionId, bool wasActive);

    [LoggerMessage(42, LogLevel.Warning, "Admin API: wrong bearer key from {Client} ({Method} {Path})")]
    public static partial void AdminAuthFailed(ILogger logger, string client, string method, string path);

    [LoggerMessage(43, LogLevel.Error, "Admin API: {Client} used up its wrong-key allowance; every admin call from it gets 429 for up to a minute")]
    public static partial void AdminLockedOut(ILogger logger, string client);

    [LoggerMessage(44, LogLevel.Error, "Admin API: key {KeyId} refused with 429: {Client} is locked out after too many wrong keys")]
    public static partial void AdminLockedOutKeyRefused(ILogger logger, string keyId, string client);

    [LoggerMessage(45, LogLevel.Information, "Admin API: {State}")]
    public static partial void AdminApiState(ILogger logger, string state);

    [LoggerMessage(46, LogLevel.Information, "The store did not know the {Operation} script (a restart, a failover or SCRIPT FLUSH); it was sent by text and loaded")]
    public static partial void StoreScriptLoaded(ILogger logger, string operation);

    [LoggerMessage(22, LogLevel.Information, "Room {Room}: adaptive rate {Action} {From:F2} -> {To:F2} admissions/s (used {Used:F2}/s; {Evidence})")]
    public static partial void AdaptiveRateChanged(ILogger logger, string room, string action, double from, double to, double used, string evidence);

    [LoggerMessage(23, LogLevel.Warning, "Room {Room}: admissions paused (adaptive rate {From:F2} -> 0): {Evidence}")]
    public static partial void AdaptivePaused(ILogger logger, string room, double from, string evidence);

    [LoggerMessage(24, LogLevel.Information, "Room {Room}: adaptive admission is off; its adaptive rate was cleared from the store")]
    public static partial void AdaptiveOff(ILogger logger, string room);

    [LoggerMessage(25, LogLevel.Warning, "Adaptive admission of room {Room} could not reach the store: {Error}")]
    public static partial void AdaptiveFailed(ILogger logger, string room, string error);
}
