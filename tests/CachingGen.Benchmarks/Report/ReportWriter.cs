namespace CachingGen.Benchmarks.Report;

public static class ReportWriter
{
    public static void Write(string results, string output, string repository)
    {
    }
}
