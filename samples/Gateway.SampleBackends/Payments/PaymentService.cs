using Gateway.SampleBackends.Hosting;
using Gateway.SampleBackends.Http;
using Gateway.SampleBackends.Storage;

namespace Gateway.SampleBackends.Payments;

/// <summary>Card authorisations for reservations: <c>POST /api/payments</c> authorises; payments can be read and listed.</summary>
internal sealed class PaymentService(TimeProvider time) : IBackendService
{
    public const string ServiceName = "payment";

    private const decimal MaxAmount = 1_000_000m;

    private readonly BoundedStore<Payment> _payments = new();

    public string Name => ServiceName;

    public string PathPrefix => "/api/payments";

    public void MapEndpoints(IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(PathPrefix);
        api.MapPost("", CreateAsync);
        api.MapGet("", (string? limit) => new ListResponse<Payment>(_payments.Newest(Paging.Limit(limit)), _payments.Count));
        api.MapGet("/{id}", (string id, HttpContext context) => _payments.TryGet(id, out var payment)
            ? Results.Json(payment)
            : ApiErrors.NotFound(context, "PAYMENT_NOT_FOUND", $"No payment '{id}'."));
    }

    // Takes HttpRequest: a method taking only HttpContext would bind as a RequestDelegate and drop the IResult.
    private async Task<IResult> CreateAsync(HttpRequest httpRequest)
    {
        var context = httpRequest.HttpContext;
        var request = await JsonBody.TryReadAsync<CreatePaymentRequest>(context);
        if (request is null)
        {
            return ApiErrors.Invalid(
                context, "Expected a JSON body {\"reservation_id\": \"...\", \"amount\": 120.00, \"currency\": \"KRW\"}.");
        }

        if (request.ReservationId is not { Length: > 0 and <= 64 } reservationId)
        {
            return ApiErrors.Invalid(context, "reservation_id is required (at most 64 characters).");
        }

        if (request.Amount is not (> 0 and <= MaxAmount) || decimal.Round(request.Amount.Value, 2) != request.Amount.Value)
        {
            return ApiErrors.Invalid(context, $"amount must be greater than 0 and at most {MaxAmount}, with at most 2 decimals.");
        }

        if (request.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            return ApiErrors.Invalid(context, "currency must be a 3-letter ISO 4217 code such as KRW or USD.");
        }

        var now = time.GetUtcNow();
        var payment = new Payment($"pay_{Guid.CreateVersion7(now):N}", reservationId, request.Amount.Value, currency, "authorized", now);
        _payments.TryAdd(payment.Id, payment);
        return Results.Created($"{PathPrefix}/{payment.Id}", payment);
    }
}

/// <summary>Body of <c>POST /api/payments</c>.</summary>
internal sealed record CreatePaymentRequest(string? ReservationId, decimal? Amount, string? Currency);

/// <summary>An authorised payment for a reservation.</summary>
internal sealed record Payment(
    string Id, string ReservationId, decimal Amount, string Currency, string Status, DateTimeOffset CreatedAt);
