using System.Globalization;
using System.Runtime.InteropServices;

namespace Gateway.SampleBackends;

/// <summary>
/// <c>dotnet run --project samples/Gateway.SampleBackends -- --Backends:CapacityPerSecond=50</c>: runs the
/// three services until Ctrl+C or SIGTERM. Options come from the <c>Backends</c> section of environment
/// variables (<c>Backends__Latency=00:00:00.020</c>) and the command line.
/// </summary>
internal static class Program
{
    // A class rather than top-level statements: those generate a global public Program type, which would
    // clash with Gateway.Proxy's in the test and demo projects that reference both.
    private static async Task<int> Main(string[] args)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        var options = configuration.GetSection("Backends").Get<SampleBackendsOptions>() ?? new SampleBackendsOptions();

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        SampleBackendsApp app;
        try
        {
            app = await SampleBackendsApp.StartAsync(options, stop.Token);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        await using (app)
        {
            Console.WriteLine($"reservation  {app.ReservationUrl}");
            Console.WriteLine($"inventory    {app.InventoryUrl}");
            Console.WriteLine($"payment      {app.PaymentUrl}");
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"capacity {options.CapacityPerSecond}/s per service, latency {options.Latency.TotalMilliseconds} ms; Ctrl+C to stop"));
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: fall through to a clean stop.
            }
        }

        return 0;
    }
}
