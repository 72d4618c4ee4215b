using CachingGen.Generated;
using CachingGen.Runtime;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Sample;

namespace CachingGen.Tests.Runtime;

public sealed class WriteBackArgumentsTests
{
    private static readonly MessagePack.MessagePackSerializerOptions Options = CachingGenFormatterResolver.Options;

    [Fact]
    public void A_run_deserializes_in_order_and_refuses_a_record_of_another_method_or_unreadable_arguments()
    {
        WriteBackRecord Record(string method, byte[] arguments) => new("Sample.IPreferenceRepository", method, "pref:1", "pref:1@1", arguments, DateTimeOffset.UnixEpoch);
        const string update = "UpdateAsync(Sample.Preference)";
        var first = new Preference(1, 1, "a", true);
        var second = new Preference(2, 1, "b", false);

        Assert.Equal(new[] { first, second }, WriteBackDispatch.DeserializeMany<Preference>(
            new[] { Record(update, WriteBackArguments.Serialize(Options, first)), Record(update, WriteBackArguments.Serialize(Options, second)) }, update, Options));
        Assert.Empty(WriteBackDispatch.DeserializeMany<Preference>(Array.Empty<WriteBackRecord>(), update, Options));

        var other = Assert.Throws<ArgumentException>(() => WriteBackDispatch.DeserializeMany<Preference>(
            new[] { Record(update, WriteBackArguments.Serialize(Options, first)), Record("SaveAsync(Sample.Preference)", WriteBackArguments.Serialize(Options, second)) }, update, Options));
        Assert.Contains("SaveAsync(Sample.Preference)", other.Message, StringComparison.Ordinal);
        Assert.Throws<PermanentWriteBackException>(() => WriteBackDispatch.DeserializeMany<Preference>(new[] { Record(update, new byte[] { 0xc1 }) }, update, Options));
    }

    [Fact]
    public void Arguments_round_trip_for_one_to_four_parameters()
    {
        var preference = new Preference(1, 2, "email", true);
        WriteBackArguments.Deserialize(WriteBackArguments.Serialize(Options, preference), Options, out Preference? one);
        Assert.Equal(preference, one);

        WriteBackArguments.Deserialize(WriteBackArguments.Serialize(Options, preference, 5L), Options, out Preference? a, out long b);
        Assert.Equal((preference, 5L), (a, b));

        WriteBackArguments.Deserialize(WriteBackArguments.Serialize(Options, "x", 5, true), Options, out string? c, out int d, out bool e);
        Assert.Equal(("x", 5, true), (c, d, e));

        WriteBackArguments.Deserialize(WriteBackArguments.Serialize(Options, 1L, "y", (Preference?)null, Guid.Empty), Options, out long f, out string? g, out Preference? h, out Guid i);
        Assert.Equal((1L, "y", (Preference?)null, Guid.Empty), (f, g, h, i));
    }

    [Fact]
    public void A_length_mismatch_is_a_permanent_clear_error()
    {
        var bytes = WriteBackArguments.Serialize(Options, 1L, 2L);
        var error = Assert.Throws<PermanentWriteBackException>(() => WriteBackArguments.Deserialize(bytes, Options, out long _));
        Assert.Contains("hold 2 argument(s) but the method takes 1", error.Message);
    }

    [Fact]
    public void Undeserializable_arguments_are_a_permanent_error()
    {
        var bytes = WriteBackArguments.Serialize(Options, "not a preference");
        Assert.Throws<PermanentWriteBackException>(() => WriteBackArguments.Deserialize(bytes, Options, out Preference? _));
        Assert.Throws<PermanentWriteBackException>(() => WriteBackArguments.Deserialize(new byte[] { 0xC1 }, Options, out long _));
    }

    [Fact]
    public void ResolveInner_prefers_the_bound_instance_then_the_scope()
    {
        var bound = new Support.FakePreferenceDatabase();
        var resolved = new Support.FakePreferenceDatabase();
        Assert.Same(bound, WriteBackDispatch.ResolveInner<IPreferenceRepository>(bound, _ => resolved, null, "R"));
        var services = new ServiceCollection().BuildServiceProvider();
        Assert.Same(resolved, WriteBackDispatch.ResolveInner<IPreferenceRepository>(null, _ => resolved, services, "R"));
        var error = Assert.Throws<InvalidOperationException>(() => WriteBackDispatch.ResolveInner<IPreferenceRepository>(null, _ => resolved, null, "Sample.IPreferenceRepository"));
        Assert.Contains("Sample.IPreferenceRepository", error.Message);
        Assert.Contains("service provider", error.Message);
    }

    [Fact]
    public void UnknownMethod_names_the_repository_and_method()
    {
        var record = new WriteBackRecord("Sample.IPreferenceRepository", "OldAsync(Sample.Preference)", "pref:1", "pref:1@1", Array.Empty<byte>(), DateTimeOffset.UnixEpoch);
        var error = WriteBackDispatch.UnknownMethod(record);
        Assert.IsType<PermanentWriteBackException>(error);
        Assert.Contains("Sample.IPreferenceRepository", error.Message);
        Assert.Contains("OldAsync(Sample.Preference)", error.Message);
        Assert.Contains("renamed or removed", error.Message);
    }
}
