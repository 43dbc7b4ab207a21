using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Testing;

/// <summary>The real server, in this process, on a random loopback port, over a SQLite file in a temp folder.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    private readonly WebApplication _app;
    private readonly bool _ownsDirectory;

    private RunningServer(WebApplication app, string dataDirectory, bool ownsDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUri = new Uri(address);
        Api = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    /// <summary>
    /// <c>CONNECTOR_EVENTS_TEST_STORAGE=Postgres</c> runs every in-process server of the tests on PostgreSQL (test.sh runs
    /// the end-to-end tests once per provider); unset, SQLite.
    /// </summary>
    public static string StorageUnderTest { get; } =
        Environment.GetEnvironmentVariable("CONNECTOR_EVENTS_TEST_STORAGE") is { Length: > 0 } storage ? storage : "Sqlite";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Databases = new(StringComparer.Ordinal);

    public Uri BaseUri { get; }

    public string DataDirectory { get; }

    /// <summary>An HTTP client carrying the admin key.</summary>
    public HttpClient Api { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a server. Loopback is opened for deliveries unless <paramref name="settings"/> says otherwise (a null value
    /// drops a setting this class makes, so the server's default applies);
    /// <paramref name="time"/> replaces the clock; <paramref name="configure"/> runs last on the builder (e.g. to add a
    /// <see cref="CapturedLog"/>).
    /// </summary>
    public static async Task<RunningServer> StartAsync(
        IDictionary<string, string?>? settings = null, TimeProvider? time = null, string? dataDirectory = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var ownsDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"));
        var config = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Storage:DataDirectory"] = dataDirectory,
            ["Security:AdminApiKey"] = AdminKey,
            ["Security:EncryptionKey"] = TestSecrets.EncryptionKey,
            // Above any test's load (the defaults would refuse the abuse suite's thousands of requests); the rate limit
            // tests set their own.
            ["RateLimits:PerKeyRequestsPerSecond"] = "1000000",
            ["RateLimits:PerAddressRequestsPerSecond"] = "1000000",
            ["RateLimits:FailedAuthenticationsPerMinute"] = "1000000",
            ["Delivery:AllowedNetworks:0"] = "127.0.0.0/8",
        };
        if (StorageUnderTest == "Postgres" && settings?.ContainsKey("Storage:Provider") != true)
        {
            // One database per data folder, so a test that restarts the server on its folder finds its data again.
            config["Storage:Provider"] = "Postgres";
            config["ConnectionStrings:Postgres"] = Databases.GetOrAdd(dataDirectory, _ => PostgresServer.CreateDatabase());
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                config.Remove(key); // null: the server's own default, not the tests'
            }
            else
            {
                config[key] = value;
            }
        }
        var app = ServerHost.Build(["--environment", "Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.ClearProviders();
            if (Environment.GetEnvironmentVariable("CONNECTOR_EVENTS_TEST_LOGS") is { Length: > 0 } level)
            {
                // Diagnosing a test or a benchmark: the server's log at this level and above, on the console.
                builder.Logging.AddSimpleConsole().SetMinimumLevel(Enum.Parse<LogLevel>(level, ignoreCase: true));
            }
            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }
            configure?.Invoke(builder);
        });
        await app.StartAsync().ConfigureAwait(false);
        return new RunningServer(app, dataDirectory, ownsDirectory);
    }

    public async Task<JsonObject> PostAsync(string path, object? body = null, int expectedStatus = 0)
    {
        using var response = await Api.PostAsync(path, Json(body)).ConfigureAwait(false);
        return await ApiClientExtensions.ReadAsync(response, expectedStatus).ConfigureAwait(false);
    }

    public async Task<JsonObject> GetAsync(string path, int expectedStatus = 200)
    {
        using var response = await Api.GetAsync(path).ConfigureAwait(false);
        return await ApiClientExtensions.ReadAsync(response, expectedStatus).ConfigureAwait(false);
    }

    public async Task<JsonObject> SendAsync(HttpMethod method, string path, object? body = null, int expectedStatus = 0)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var response = await Api.SendAsync(request).ConfigureAwait(false);
        return await ApiClientExtensions.ReadAsync(response, expectedStatus).ConfigureAwait(false);
    }

    private static JsonContent? Json(object? body) => body is null ? null : JsonContent.Create(body);

    /// <summary>An enterprise, a client pointing at <paramref name="integrationWebhookUrl"/>, and the client's secret.</summary>
    public async Task<(Guid EnterpriseId, Guid ClientId, string Secret)> SeedAsync(string? integrationWebhookUrl, string name = "Sample")
    {
        var enterprise = await PostAsync("/api/v1/enterprises", new { Name = name + " Hotel" }).ConfigureAwait(false);
        var client = await PostAsync("/api/v1/clients", new { Name = name + " App", IntegrationWebhookUrl = integrationWebhookUrl })
            .ConfigureAwait(false);
        return (Guid.Parse((string)enterprise["Id"]!), Guid.Parse((string)client["Id"]!), (string)client["SigningSecret"]!);
    }

    public async Task<Guid> CreateIntegrationAsync(Guid enterpriseId, Guid clientId, bool isEnabled = true)
    {
        var integration = await PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId, IsEnabled = isEnabled })
            .ConfigureAwait(false);
        return Guid.Parse((string)integration["Id"]!);
    }

    /// <summary>Polls the messages API until the message reaches <paramref name="status"/>.</summary>
    public async Task<JsonObject> WaitForMessageAsync(string messageId, string status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var detail = await GetAsync($"/api/v1/messages/{messageId}").ConfigureAwait(false);
            if ((string?)detail["Message"]?["Status"] == status)
            {
                return detail;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Message {messageId} is {detail["Message"]?["Status"]}, not {status}: {detail.ToJsonString()}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

}
