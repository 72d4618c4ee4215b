using System.Buffers.Binary;
using System.Globalization;
using CachingGen.Benchmarks.Entities;
using CachingGen.Storage;
using MessagePack;

namespace CachingGen.Benchmarks.Decorators;

/// <summary>
/// The baseline of the decorator-overhead benchmark: what a careful developer would write by hand to read the same
/// entry from the same <see cref="ICacheStore"/>. It does the work the generated decorator must do on a hit (build the
/// same key, one store lookup, check the 10-byte envelope header: format, kind and schema fingerprint, deserialize
/// with the same generated formatters, reject trailing bytes) and nothing else: no metrics, no tracing, no
/// single-flight, no corrupt-entry logging. A miss calls the inner repository and fills with the miss's token, without
/// single-flight.
/// </summary>
public sealed class HandWrittenPreferenceDecorator(ICacheStore store, IPreferenceRepository inner, MessagePackSerializerOptions options, ulong fingerprint)
{
    private const int HeaderSize = 10;

    public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        var key = string.Concat("pref:", userId.ToString(CultureInfo.InvariantCulture));
        var pending = store.GetAsync(key, ct);
        if (pending.IsCompletedSuccessfully)
        {
            var lookup = pending.Result;
            if (lookup.Found && TryDecode(lookup.Value, out var value))
            {
                return new ValueTask<Preference?>(value);
            }

            return LoadAsync(key, userId, lookup, ct);
        }

        return AwaitLookupAsync(pending, key, userId, ct);
    }

    private async ValueTask<Preference?> AwaitLookupAsync(ValueTask<CacheLookup> pending, string key, long userId, CancellationToken ct)
    {
        var lookup = await pending.ConfigureAwait(false);
        if (lookup.Found && TryDecode(lookup.Value, out var value))
        {
            return value;
        }

        return await LoadAsync(key, userId, lookup, ct).ConfigureAwait(false);
    }

    private async ValueTask<Preference?> LoadAsync(string key, long userId, CacheLookup lookup, CancellationToken ct)
    {
        var value = await inner.GetAsync(userId, ct).ConfigureAwait(false);
        if (value is not null && !lookup.Found)
        {
            var payload = MessagePackSerializer.Serialize(value, options);
            var envelope = new byte[HeaderSize + payload.Length];
            envelope[0] = 1;
            envelope[1] = 1;
            BinaryPrimitives.WriteUInt64LittleEndian(envelope.AsSpan(2, 8), fingerprint);
            payload.CopyTo(envelope.AsSpan(HeaderSize));
            await store.TryFillAsync(key, envelope, TimeSpan.FromSeconds(10), lookup.FillToken, ct).ConfigureAwait(false);
        }

        return value;
    }

    private bool TryDecode(ReadOnlyMemory<byte> bytes, out Preference? value)
    {
        value = null;
        var span = bytes.Span;
        if (span.Length <= HeaderSize || span[0] != 1 || span[1] != 1 || BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(2, 8)) != fingerprint)
        {
            return false;
        }

        var payload = bytes[HeaderSize..];
        value = MessagePackSerializer.Deserialize<Preference>(payload, options, out var read);
        return read == payload.Length && value is not null;
    }
}
