namespace Preferences;

internal static class ReplayCommand
{
    public static Task<int> RunAsync(CommandLine commandLine) => Task.FromResult(commandLine.Rows > 0 ? 1 : 1);
}
