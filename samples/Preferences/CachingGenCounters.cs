using System.Diagnostics.Metrics;

namespace Preferences;

/// <summary>
/// Totals of CachingGen's own counters (meter <c>CachingGen</c>), read with a <see cref="MeterListener"/> as any
/// metrics pipeline would. Write counts are kept per strategy (<c>cachinggen.writes[write_through]</c>).
/// </summary>
internal sealed class CachingGenCounters : IDisposable
{
    private const string StrategyTag = "cachinggen.strategy";
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public CachingGenCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "CachingGen")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var name = instrument.Name;
            foreach (var tag in tags)
            {
                if (tag.Key == StrategyTag)
                {
                    name = $"{name}[{tag.Value}]";
                }
            }

            lock (_gate)
            {
                _totals[name] = _totals.GetValueOrDefault(name) + value;
            }
        });
        _listener.Start();
    }

    /// <summary>A copy of every total so far.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, long>(_totals, StringComparer.Ordinal);
        }
    }

    /// <summary>What changed between two snapshots, e.g. <c>cachinggen.writes[write_through] 100,000</c>, or <c>none</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
    {
        var parts = after
            .Select(pair => (pair.Key, Delta: pair.Value - before.GetValueOrDefault(pair.Key)))
            .Where(pair => pair.Delta != 0)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pair.Key} {pair.Delta:N0}"))
            .ToArray();
        return parts.Length == 0 ? "none" : string.Join(", ", parts);
    }

    public void Dispose() => _listener.Dispose();
}
