namespace CachingGen.Generators
{
    internal static class GeneratorInfo
    {
        public const string Name = "CachingGen.Generators";
        public const string Version = "0.1.0";
    }
}
