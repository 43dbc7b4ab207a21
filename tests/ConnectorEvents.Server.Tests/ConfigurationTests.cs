using ConnectorEvents.Server.Hosting;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Server.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Delivery:Jitter", "5", "Delivery:Jitter")]
    [InlineData("Delivery:Timeout", "00:00:00", "Delivery:Timeout")]
    [InlineData("Delivery:AllowedNetworks:0", "10.0.0.0/33", "Delivery:AllowedNetworks")]
    [InlineData("Delivery:MaxConcurrency", "0", "Delivery:MaxConcurrency")]
    [InlineData("Delivery:ShutdownGracePeriod", "00:10:00", "Delivery:ShutdownGracePeriod")]
    [InlineData("Security:AdminApiKey", "short", "Security:AdminApiKey")]
    [InlineData("Storage:DataDirectory", " ", "Storage:DataDirectory")]
    [InlineData("Storage:CommandTimeout", "00:00:00.500", "Storage:CommandTimeout")]
    [InlineData("Storage:Provider", "Postgres", "ConnectionStrings:Postgres")]
    [InlineData("Cluster:LeaseDuration", "00:00:06", "Cluster:LeaseDuration")]
    [InlineData("Cluster:RenewInterval", "00:00:00.010", "Cluster:RenewInterval")]
    [InlineData("Cluster:ForgetNodesAfter", "00:00:30", "Cluster:ForgetNodesAfter")]
    [InlineData("Health:Port", "0", "Health:Port")]
    [InlineData("Security:EncryptionKey", "", "Security:EncryptionKey")]
    [InlineData("Security:EncryptionKey", "c2hvcnQ=", "Security:EncryptionKey")]
    [InlineData("Security:DecryptionKeys:0", "not base64", "Security:DecryptionKeys:0")]
    [InlineData("Security:SecretRotationOverlap", "-00:00:01", "Security:SecretRotationOverlap")]
    [InlineData("RateLimits:PerKeyRequestsPerSecond", "-1", "RateLimits:PerKeyRequestsPerSecond")]
    [InlineData("Proxy:TrustedNetworks:0", "10.0.0.0/33", "Proxy:TrustedNetworks:0")]
    public async Task Invalid_settings_stop_the_start_with_a_message_naming_them(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => RunningServer.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_postgres_connection_string_stops_the_start_and_an_unreachable_one_makes_it_wait_without_showing_either()
    {
        const string Password = "pw-must-never-show-0123";
        var bad = await Assert.ThrowsAsync<OptionsValidationException>(() => RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = $"Host=127.0.0.1;Password={Password};NoSuchKeyword=1",
        }));
        Assert.Contains("ConnectionStrings:Postgres", bad.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, bad.Message, StringComparison.Ordinal);

        // Nothing listens on a fresh free port: the start waits for the database (it may come up later), answering readiness
        // 503 with the reason; neither that answer nor any log line carries the password.
        var log = new CapturedLog();
        await using var waiting = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = $"Host=127.0.0.1;Port={ServerProcess.FreePort()};Username=x;Password={Password};Timeout=3",
        }, configure: b => b.Logging.AddProvider(log));
        using var anonymous = new HttpClient { BaseAddress = waiting.BaseUri };
        using var ready = await anonymous.GetAsync(new Uri("/healthz/ready", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("database unreachable", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, body, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Entries, e => e.ToString().Contains(Password, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, 30)]          // the host's own 30 s already covers the 10 s default plus flush and hand-back
    [InlineData("00:01:00", 80)]    // a longer grace stretches the host's time-out to fit
    public async Task The_hosts_shutdown_time_out_fits_the_grace_period_the_flush_and_the_lease_hand_back(string? grace, int seconds)
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Delivery:ShutdownGracePeriod"] = grace });
        Assert.Equal(TimeSpan.FromSeconds(seconds), server.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public async Task A_missing_admin_key_outside_development_stops_the_start()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => RunningServer.StartAsync(new Dictionary<string, string?> { ["Security:AdminApiKey"] = "" }));
        Assert.Contains("Security__AdminApiKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_development_admin_key_is_generated_once_kept_private_and_printed_once()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ce-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var first = new StringWriter();
            var key = DevelopmentKeyFiles.LoadOrCreateAdminKey(folder, first);
            Assert.Contains(key, first.ToString(), StringComparison.Ordinal);
            Assert.True(key.Length >= 32);
            var path = Path.Combine(folder, DevelopmentKeyFiles.AdminKeyFileName);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            }

            using var second = new StringWriter();
            Assert.Equal(key, DevelopmentKeyFiles.LoadOrCreateAdminKey(folder, second));
            Assert.Equal("", second.ToString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_development_encryption_key_file_that_holds_no_key_stops_the_start_and_is_kept()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ce-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, DevelopmentKeyFiles.EncryptionKeyFileName);
            File.WriteAllText(path, "truncated");
            var error = Assert.Throws<InvalidOperationException>(() => DevelopmentKeyFiles.LoadOrCreateEncryptionKey(folder, TextWriter.Null));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Equal("truncated", File.ReadAllText(path)); // not replaced: the database's secrets are under the lost key
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_development_encryption_key_is_generated_once_kept_private_and_never_printed()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ce-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var first = new StringWriter();
            var key = DevelopmentKeyFiles.LoadOrCreateEncryptionKey(folder, first);
            Assert.Equal(32, Convert.FromBase64String(key).Length);
            Assert.DoesNotContain(key, first.ToString(), StringComparison.Ordinal);
            Assert.Contains(DevelopmentKeyFiles.EncryptionKeyFileName, first.ToString(), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    File.GetUnixFileMode(Path.Combine(folder, DevelopmentKeyFiles.EncryptionKeyFileName)));
            }

            using var second = new StringWriter();
            Assert.Equal(key, DevelopmentKeyFiles.LoadOrCreateEncryptionKey(folder, second));
            Assert.Equal("", second.ToString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
