using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace WriteBackFlusher;

/// <summary>The "app" role's work: writes every key's next sequence number with [WriteBack] for a while, then stops
/// the application (the in-process flusher drains on the way out).</summary>
internal sealed class CounterWriter(ICounterRepository counters, IConfiguration settings, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keys = settings.GetValue("keys", 100);
        var until = DateTime.UtcNow.AddSeconds(settings.GetValue("seconds", 10));
        var sequence = new long[keys];
        long written = 0;
        while (DateTime.UtcNow < until && !stoppingToken.IsCancellationRequested)
        {
            var id = Random.Shared.Next(keys);
            await counters.RecordAsync(new Counter(id, ++sequence[id]), stoppingToken);
            written++;
        }

        Console.WriteLine($"app: {written} write-back calls acknowledged");
        lifetime.StopApplication();
    }
}
