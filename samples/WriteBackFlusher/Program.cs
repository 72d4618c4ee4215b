using CachingGen.MySql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WriteBackFlusher;

// The write-back flusher, two ways:
//   WriteBackFlusher flusher --redis HOST:PORT --mysql "Server=..." [--namespace app:] [--shards 4] ...
//       a process that only flushes: run one or several next to the application (each shard has one owner at a time).
//   WriteBackFlusher app --redis ... --mysql ... [--seconds 10] [--keys 100]
//       an application that writes counters with [WriteBack] and runs the flusher as a BackgroundService in-process.
//   WriteBackFlusher bench --redis ... --mysql ... [--seconds 5] [--concurrency 16]
//       the load command of docs/benchmarks/write-back.md.
// Settings: see CounterServices. Ctrl+C stops gracefully: the flusher drains, then reports what is still pending.
if (args.Length > 0 && args[0] == "bench")
{
    // The load command of docs/benchmarks/write-back.md.
    return await LoadBenchmark.RunAsync(new ConfigurationBuilder().AddCommandLine(args[1..]).Build());
}

if (args.Length == 0 || args[0] is not ("flusher" or "app"))
{
    Console.Error.WriteLine("usage: WriteBackFlusher flusher|app --redis HOST:PORT --mysql CONNECTION-STRING [--namespace NS] [--shards N] [--table NAME] ...");
    return 2;
}

var role = args[0];
var builder = Host.CreateApplicationBuilder(args[1..]);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(options => { options.SingleLine = true; options.TimestampFormat = "HH:mm:ss.fff "; });
builder.Logging.SetMinimumLevel(builder.Configuration.GetValue("log-level", LogLevel.Information));
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Services.AddCounters(builder.Configuration, runFlusher: true);
if (role == "app")
{
    builder.Services.AddHostedService<CounterWriter>();
}

using var host = builder.Build();
if (role == "app")
{
    // The application owns its schema; a flusher process only replays into it (and must start while MySQL is down).
    await MySqlCounterRepository.CreateTablesAsync(host.Services.GetRequiredService<IMySqlConnectionSource>(), builder.Configuration["table"] ?? "counters");
}

Console.WriteLine($"{role} ready (pid {Environment.ProcessId})");
await host.RunAsync();
return 0;
