namespace CachingGen.Benchmarks.Tests;

/// <summary>A measured run refuses to start unless the framework's code is JIT-compiled: with tiered compilation off,
/// it would otherwise measure the framework's precompiled ReadyToRun code for the whole run (UTF-8 string writes ~5x
/// slower than a hot service runs them), a cost every serializer row shares and that dilutes every ratio.</summary>
public sealed class HarnessGuardTests
{
    [Fact]
    public void A_measured_run_may_start_with_ReadyToRun_off()
    {
        Assert.Null(Program.JitCompiledFrameworkProblem("0"));
    }

    [Theory]
    [InlineData(null, "it is not set")]
    [InlineData("1", "it is \"1\"")]
    [InlineData("", "it is \"\"")]
    public void Any_other_setting_is_refused_with_the_fix(string? readyToRun, string shown)
    {
        var problem = Program.JitCompiledFrameworkProblem(readyToRun);
        Assert.NotNull(problem);
        Assert.Contains("DOTNET_ReadyToRun=0", problem, StringComparison.Ordinal);
        Assert.Contains(shown, problem, StringComparison.Ordinal);
        Assert.Contains("scripts/benchmarks.sh", problem, StringComparison.Ordinal);
    }
}
