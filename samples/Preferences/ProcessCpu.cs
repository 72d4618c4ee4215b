using System.Globalization;

namespace Preferences;

/// <summary>
/// CPU time of a local server process, read from Linux's <c>/proc/&lt;pid&gt;/stat</c>. The replay uses it to say
/// where each row's CPU goes when the client, Redis and the database share one machine's cores.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>Linux counts these times in USER_HZ, which is 100 on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system time of process <paramref name="pid"/>; null when it cannot be read (not Linux, not
    /// local, gone, or not ours to read).</summary>
    public static TimeSpan? Read(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'.
        // utime and stime are fields 14 and 15, the 12th and 13th after it.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return null;
        }

        return TimeSpan.FromSeconds((user + system) / TicksPerSecond);
    }

    /// <summary>The process id written in <paramref name="pidFile"/>, when that file is on this machine.</summary>
    public static int? ReadPidFile(string? pidFile)
    {
        if (string.IsNullOrEmpty(pidFile))
        {
            return null;
        }

        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
