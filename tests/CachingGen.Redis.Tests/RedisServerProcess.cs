using System.Diagnostics;
using System.Net.Sockets;

namespace CachingGen.TestSupport;

/// <summary>A private redis-server this test starts, configures and kills: never the shared server other tests use.
/// Ports come from CACHINGGEN_PRIVATE_REDIS_PORTS ("6413-6418" by default; a taken port is skipped).</summary>
internal sealed class RedisServerProcess : IDisposable
{
    private static int s_next;
    private readonly string[] _arguments;
    private Process? _process;

    private RedisServerProcess(int port, string directory, string[] arguments)
    {
        Port = port;
        Directory = directory;
        _arguments = arguments;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts a server with <paramref name="settings"/> (redis-server command-line settings, e.g. "--appendfsync", "always").</summary>
    public static RedisServerProcess Start(params string[] settings)
    {
        var (first, last) = PortRange();
        var size = last - first + 1;
        for (var attempt = 0; ; attempt++)
        {
            var port = first + (Interlocked.Increment(ref s_next) - 1) % size;
            var directory = Path.Combine(Path.GetTempPath(), $"cachinggen-redis-{port}-{Guid.NewGuid():N}");
            System.IO.Directory.CreateDirectory(directory);
            var server = new RedisServerProcess(port, directory, settings);
            try
            {
                server.Launch();
                return server;
            }
            catch (InvalidOperationException) when (attempt < size)
            {
                // The port is taken (by another test's server or another program): try the next one.
                server.Dispose();
            }
        }
    }

    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public void Restart()
    {
        Kill();
        Launch();
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Launch()
    {
        // Another program (another test run's server) on the port would answer our PING: never start beside it.
        if (ServerPidOnPort() is { } foreign)
        {
            throw new InvalidOperationException($"port {Port} is taken by another redis-server (pid {foreign})");
        }

        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory, "--save", "", "--protected-mode", "no" }.Concat(_arguments))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                if (ServerPidOnPort() is { } pid)
                {
                    // The port was free a moment ago; if another server took it first, ours exits: try another port.
                    if (pid == _process.Id)
                    {
                        return;
                    }

                    throw new InvalidOperationException($"port {Port} was taken by another redis-server (pid {pid}) while ours started");
                }
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {Port} exited at start-up (code {_process.ExitCode}); is the port free?");
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"redis-server on port {Port} did not answer within 20 s");
    }

    /// <summary>The process id of the redis-server answering on <see cref="Port"/>, or null when none answers.</summary>
    private int? ServerPidOnPort()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            using var stream = client.GetStream();
            stream.Write("INFO server\r\n"u8);
            var text = new System.Text.StringBuilder();
            var buffer = new byte[4096];
            while (!text.ToString().Contains("process_id:", StringComparison.Ordinal) || !text.ToString().Contains("run_id:", StringComparison.Ordinal))
            {
                var read = stream.Read(buffer, 0, buffer.Length);
                if (read == 0)
                {
                    return null;
                }

                text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            }

            var info = text.ToString();
            var start = info.IndexOf("process_id:", StringComparison.Ordinal) + "process_id:".Length;
            var end = info.IndexOf('\r', start);
            return int.Parse(info.AsSpan(start, end - start), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SocketException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static (int First, int Last) PortRange()
    {
        var text = Environment.GetEnvironmentVariable("CACHINGGEN_PRIVATE_REDIS_PORTS") ?? "6413-6418";
        var parts = text.Split('-');
        return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
