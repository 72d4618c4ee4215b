using Preferences;
using Preferences.Replay;

// The article's notification-preference service on CachingGen: `demo` walks through every strategy, `replay`
// replays its bulk migration with each strategy and measures what the cache costs.
try
{
    var commandLine = CommandLine.Parse(args);
    return commandLine.Command == "replay"
        ? await ReplayCommand.RunAsync(commandLine)
        : await DemoCommand.RunAsync(commandLine);
}
catch (UsageException exception)
{
    if (exception.Message.Length > 0)
    {
        Console.Error.WriteLine("error: " + exception.Message);
        Console.Error.WriteLine();
    }

    Console.Error.WriteLine(Preferences.CommandLine.Usage);
    return exception.Message.Length > 0 ? 2 : 0;
}
