using System.Runtime;
using System.Runtime.InteropServices;

namespace ConnectorEvents.Bench;

/// <summary>What the figures were measured on.</summary>
public sealed record MachineInfo(
    int Cores, string Cpu, double MemoryGiB, string Os, string Runtime, string Gc, DateTimeOffset Date, string LoadAverage)
{
    public string Summary => $"{Cores} cores ({Cpu}), {MemoryGiB:0.0} GiB, {Os}, {Runtime}, {Gc}; load average {LoadAverage}";

    public static MachineInfo Collect() => new(
        Environment.ProcessorCount,
        CpuModel(),
        MemoryBytes() / (1024.0 * 1024 * 1024),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        (GCSettings.IsServerGC ? "Server GC" : "Workstation GC") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"),
        DateTimeOffset.UtcNow,
        ReadLoadAverage());

    /// <summary>The first three fields of /proc/loadavg, or "n/a".</summary>
    public static string ReadLoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (UnauthorizedAccessException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static long MemoryBytes()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line["MemTotal:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(),
                System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var kb))
            {
                return kb * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
