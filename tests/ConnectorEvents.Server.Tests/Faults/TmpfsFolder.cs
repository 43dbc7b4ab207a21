using System.Diagnostics;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// A real tmpfs mounted on a temporary folder, so a test can fill it or make it read-only under a running server.
/// Needs root (test.sh runs as root); always unmounted on dispose.
/// </summary>
internal sealed class TmpfsFolder : IDisposable
{
    private readonly string _filler;
    private bool _mounted;

    private TmpfsFolder(string path)
    {
        Path = path;
        _filler = System.IO.Path.Combine(path, "filler");
    }

    public string Path { get; }

    public static TmpfsFolder Mount(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ce-fault-fs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var folder = new TmpfsFolder(path);
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            Assert.Fail($"These tests mount a tmpfs and need root (test.sh runs as root); mount failed ({code}): {error}");
        }
        folder._mounted = true;
        return folder;
    }

    /// <summary><c>mount -o remount,ro|rw</c>; returns the exit code and the error text (EBUSY while files are open for writing).</summary>
    public (int Code, string Error) Remount(bool readOnly) => Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    /// <summary>Fills the file system with one file until nothing more fits.</summary>
    public long Fill()
    {
        var chunk = new byte[256 * 1024];
        long written = 0;
        using var file = new FileStream(_filler, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        try
        {
            while (true)
            {
                file.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full
        }
        // Squeeze the last pages too, a small write at a time.
        var small = new byte[4096];
        try
        {
            while (true)
            {
                file.Write(small);
                file.Flush();
                written += small.Length;
            }
        }
        catch (IOException)
        {
        }
        return written;
    }

    public void Unfill() => File.Delete(_filler);

    private static (int Code, string Error) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            return (-1, $"{file} did not finish within 10 s");
        }
        return (process.ExitCode, error.Trim());
    }

    public void Dispose()
    {
        if (_mounted)
        {
            Remount(readOnly: false);
            // Lazy: a file handle left open by a failed test must not keep the mount (and the test host) stuck.
            var (code, error) = Run("umount", "-l", Path);
            _mounted = code != 0;
            if (code != 0)
            {
                throw new InvalidOperationException($"umount {Path} failed ({code}): {error}");
            }
        }
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
