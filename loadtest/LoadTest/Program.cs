using LoadTest.Cli;
using LoadTest.Engine;

// Socket completions run on the socket engine's thread instead of being queued to the thread pool: a response
// is handled where it was read, without waking a worker for it (at 5,000/s, 54 us of CPU per request without,
// 39 with). Read once, at the first socket, so it must be set before any. The iterations' code after each
// await then runs there too, so scenarios must not block.
if (Environment.GetEnvironmentVariable(LoadTestHttp.InlineCompletionsVariable) is null)
{
    Environment.SetEnvironmentVariable(LoadTestHttp.InlineCompletionsVariable, "1");
}

if (CliParser.WantsHelp(args))
{
    Console.WriteLine(Usage.Text);
    return args.Length == 0 ? CommandRunner.InvalidArguments : CommandRunner.Success;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C stops the run and still writes the partial report; a second one kills the process.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("interrupted: stopping and writing the partial report (Ctrl+C again to abort)");
        interrupted.Cancel();
    }
};

try
{
    var options = CliParser.Parse(args);
    return await CommandRunner.RunAsync(options, args, interrupted.Token);
}
catch (ArgumentException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}\nRun with --help for the options.");
    return CommandRunner.InvalidArguments;
}
