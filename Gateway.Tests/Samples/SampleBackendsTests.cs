using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.SampleBackends;

namespace Gateway.Tests.Samples;

/// <summary>The sample backends' knobs that the adaptive-admission benchmark and tests turn while they run.</summary>
public sealed class SampleBackendsTests
{
    [Fact]
    public async Task Capacity_ChangesAtRunTime_FromLoopback_AndBadValuesAreRefused()
    {
        await using var backends = await SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0, CapacityPerSecond = 1000 });
        using var http = new HttpClient { BaseAddress = backends.InventoryUrl };

        using (var changed = await http.PostAsJsonAsync("/_backend/capacity", new Dictionary<string, double> { ["capacity_per_second"] = 2 }))
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var stats = JsonNode.Parse(await http.GetStringAsync("/_backend/stats"))!;
        Assert.Equal(2, stats["capacity_per_second"]!.GetValue<double>());

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await http.GetAsync("/api/inventory/events/concert/seats");
            codes.Add(response.StatusCode);
        }
        Assert.Contains(HttpStatusCode.ServiceUnavailable, codes); // ten calls within a second or two: at most four get through
        Assert.True(codes.Count(c => c == HttpStatusCode.OK) <= 6);

        using (var negative = await http.PostAsJsonAsync("/_backend/capacity", new Dictionary<string, double> { ["capacity_per_second"] = -1 }))
            Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        using (var text = await http.PostAsync("/_backend/capacity", new StringContent("fast please")))
            Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Equal(2, JsonNode.Parse(await http.GetStringAsync("/_backend/stats"))!["capacity_per_second"]!.GetValue<double>());
    }
}
