using System.Globalization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Enterprises;
using ConnectorEvents.Core.Ingest;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Api;
using ConnectorEvents.Server.Api.OpenApi;
using ConnectorEvents.Server.OperatorConsole;
using ConnectorEvents.Storage.Postgres;
using ConnectorEvents.Storage.Sqlite;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Builds the server; the program and the tests both start it through here.</summary>
public static partial class ServerHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings files sit beside the binaries, so the server finds them from any working directory.
        // Named after this assembly whoever hosts it (the tests, the bench): the console's pages are found through that name.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args, ContentRootPath = AppContext.BaseDirectory, ApplicationName = typeof(ServerHost).Assembly.GetName().Name,
        });
        // The host's own error lines repeat what ServerMain says in one line (a failed start) with a stack trace; a background
        // service that fails while running still logs its Critical line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 1024 * 1024;
            // The default builder reads Kestrel's endpoints from its section, not its limits: connection limits
            // (Kestrel:Limits:MaxConcurrentConnections, MaxConcurrentUpgradedConnections, …) are read here.
            builder.Configuration.GetSection("Kestrel:Limits").Bind(k.Limits);
        });
        ProvideDevelopmentKeys(builder);
        AddServices(builder.Services, builder.Configuration);

        var app = builder.Build();
        UseTrustedProxies(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<StartupGate>();
        app.UseMiddleware<ApiKeyAuthentication>();
        app.UseRateLimiter(); // after authentication, which names the key a limit counts
        app.UseWebSockets();
        app.MapOperatorConsole();
        app.MapConnectorApiReference();
        app.MapConnectorMetrics();
        // GET (and HEAD) only, as documented: another method is a 405 like on every other route.
        HttpMethodMetadata reads = new(["GET", "HEAD"]);
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false }).WithMetadata(reads);
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = ReadinessCheck.WriteResponseAsync,
        }).WithMetadata(reads);
        // The statuses every route shares (401, 403, 404, 429, 503, ...) are added to the document by Api/OpenApi/CommonResponses.
        var api = app.MapGroup("/api/v1").WithIdempotentPosts();
        api.MapEnterprises();
        api.MapClients();
        api.MapIntegrations();
        api.MapMessages();
        api.MapCluster();
        api.MapIngest();
        api.MapApiKeys();
        // Outside /api: WebSocket clients authenticate with their own tokens, not the admin key.
        app.MapConnectorWebSocket();
        app.MapSigningKeys(); // for integrators: public keys only
        // Resolved now: after a failed start the callback runs once the services are disposed.
        var webSockets = app.Services.GetRequiredService<WebSocketHub>();
        app.Lifetime.ApplicationStopping.Register(webSockets.CloseAll);
        return app;
    }

    /// <summary>The client's address and scheme from the headers of the proxies <see cref="ProxyOptions"/> names, and only theirs.</summary>
    private static void UseTrustedProxies(WebApplication app)
    {
        var proxies = app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Networks;
        if (proxies.Count == 0)
        {
            return;
        }
        var forwarded = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null, // every hop that is a trusted proxy, up to the first that is not
        };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var network in proxies)
        {
            forwarded.KnownIPNetworks.Add(network);
        }
        app.UseForwardedHeaders(forwarded);
    }

    /// <summary>In Development, the keys nobody configured are made once and kept in the data folder.</summary>
    private static void ProvideDevelopmentKeys(WebApplicationBuilder builder)
    {
        if (!builder.Environment.IsDevelopment())
        {
            return;
        }
        var dataDirectory = Path.GetFullPath(builder.Configuration["Storage:DataDirectory"] ?? "./data");
        if (string.IsNullOrWhiteSpace(builder.Configuration["Security:AdminApiKey"]))
        {
            builder.Configuration.AddInMemoryCollection(
                [new("Security:AdminApiKey", DevelopmentKeyFiles.LoadOrCreateAdminKey(dataDirectory, Console.Out))]);
        }
        if (string.IsNullOrWhiteSpace(builder.Configuration["Security:EncryptionKey"]))
        {
            builder.Configuration.AddInMemoryCollection(
                [new("Security:EncryptionKey", DevelopmentKeyFiles.LoadOrCreateEncryptionKey(dataDirectory, Console.Out))]);
        }
    }

    private static void AddServices(IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section))
            .PostConfigure(o => o.PostgresConnectionString ??= configuration.GetConnectionString("Postgres")).ValidateOnStart();
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
        services.AddOptions<SecurityOptions>().Bind(configuration.GetSection(SecurityOptions.Section)).ValidateOnStart();
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateOnStart();
        services.AddOptions<ProxyOptions>().Bind(configuration.GetSection(ProxyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddConnectorRateLimits();
        services.AddOptions<SecretRotationOptions>().Bind(configuration.GetSection(SecurityOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecretRotationOptions>, SecretRotationOptionsValidator>();
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>();
        // A graceful stop gives sends their grace, then flushes the writer and hands the leases back (10 s each at most).
        // Read raw here: the host reads its options before the settings are validated (a value out of range stops the start).
        services.Configure<HostOptions>(host =>
        {
            var grace = TimeSpan.TryParse(configuration["Delivery:ShutdownGracePeriod"], CultureInfo.InvariantCulture, out var set)
                ? set : new DeliveryOptions().ShutdownGracePeriod;
            host.ShutdownTimeout = TimeSpan.FromTicks(Math.Max(host.ShutdownTimeout.Ticks, (grace + TimeSpan.FromSeconds(20)).Ticks));
        });
        services.AddOptions<RealtimeOptions>().Bind(configuration.GetSection(RealtimeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        // UseWebSockets reads these when the pipeline is built, after the settings were checked.
        services.AddOptions<WebSocketOptions>().Configure<IOptions<RealtimeOptions>>((webSockets, realtime) =>
        {
            webSockets.KeepAliveInterval = realtime.Value.KeepAliveInterval;
            webSockets.KeepAliveTimeout = realtime.Value.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : realtime.Value.KeepAliveTimeout;
        });

        services.TryAddSingleton(TimeProvider.System);
        services.PostConfigure<ClusterOptions>(o => o.NodeId ??= ClusterOptions.NewNodeId());
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SecurityOptions>>().Value.CreateProtector());
        services.AddSingleton<IConnectorStore>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var secrets = sp.GetRequiredService<SecretProtector>();
            if (storage.Provider == StorageProvider.Postgres)
            {
                return new PostgresConnectorStore(storage.PostgresConnectionString!, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId!,
                    secrets, storage.CommandTimeout);
            }
            var folder = DataFolder.Ensure(storage.DataDirectory);
            if (DataFolder.IsOpenToOthers(folder))
            {
                LogDataFolderOpen(sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost)), folder);
            }
            return new SqliteConnectorStore(storage.DatabasePath, secrets);
        });
        services.AddConnectorTelemetry(configuration);
        services.AddOptions<OperationsOptions>().Bind(configuration.GetSection(OperationsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OperationsOptions>, OperationsOptionsValidator>();
        services.AddSingleton<OperationalEvents>();
        services.AddSingleton(sp => new GroupCommitWriter(sp.GetRequiredService<IConnectorStore>(), sp.GetRequiredService<ILogger<GroupCommitWriter>>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Core.Telemetry.ConnectorTelemetry>())
        {
            MaxQueueWait = sp.GetRequiredService<IOptions<StorageOptions>>().Value.CommandTimeout,
        });
        services.AddSingleton(sp => new NetworkPolicy(sp.GetRequiredService<IOptions<DeliveryOptions>>().Value));
        services.AddSingleton(sp => new WebhookSender(
            sp.GetRequiredService<NetworkPolicy>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new RetryPolicy(sp.GetRequiredService<IOptions<DeliveryOptions>>().Value, Random.Shared));
        services.AddSingleton<PartitionLeases>();
        services.AddSingleton<DeliveryDispatcher>();
        services.AddSingleton<ClusterSignals>();
        services.AddSingleton<WebSocketHub>();
        services.AddSingleton<IngestService>();
        services.AddSingleton<IngestBodyBudget>();
        services.AddSingleton<IdempotencyKeySweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyKeySweeper>());
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        services.AddSingleton<RetentionSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionSweeper>());
        services.AddSingleton<EnterpriseService>();
        services.AddSingleton<ClientService>();
        services.AddSingleton<IntegrationService>();
        services.AddSingleton<MessageService>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<ApiKeyIdentities>();
        services.AddSingleton<StartupState>();
        services.AddHostedService<DeliveryHostedService>();
        services.AddHostedService<SecretProtectionSweeper>(); // after the migration DeliveryHostedService runs
        if (configuration.GetValue<StorageProvider?>($"{StorageOptions.Section}:Provider") == StorageProvider.Postgres)
        {
            // After delivery has started (hosted services start in order and stop in reverse).
            services.AddSingleton(sp => new PostgresChangeFeed(sp.GetRequiredService<IOptions<StorageOptions>>().Value.PostgresConnectionString!,
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId!, sp.GetRequiredService<ILogger<PostgresChangeFeed>>()));
            services.AddHostedService<ChangeFeedHostedService>();
        }

        // Before AddProblemDetails: the first writer that accepts a problem writes it, and this one accepts every problem.
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        // Routing (404, 405, 415 from Accepts) and status-code pages write a problem with a title only; give it a detail too.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Detail ??= ProblemExceptionHandler.DefaultDetail(c.HttpContext));
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // The handler answers every exception and logs a server error itself, once, with its stack trace; the middleware's
        // own Error line would repeat it, and for a client's mistake it is wrong (.NET 10's default, stated so it stays).
        services.Configure<ExceptionHandlerOptions>(o =>
            o.SuppressDiagnosticsCallback = c => c.ExceptionHandledBy == ExceptionHandledType.ExceptionHandlerService);
        services.AddSingleton<ReadinessCheck>(); // one instance: it remembers when storage last answered
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>();
        services.AddSingleton<HealthProbeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthProbeListener>());
        services.AddHealthChecks().AddCheck<ReadinessCheck>("storage-and-delivery", tags: ["ready"]);
        services.AddConnectorOpenApi();
        services.AddOperatorConsole(configuration);
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            json.SerializerOptions.PropertyNamingPolicy = null;
            // The context's own options do not travel with it into these options, so the contract's timestamp form is set again.
            json.SerializerOptions.Converters.Add(new UtcSecondsConverter());
            // A body bound through these options refuses a field given twice too, as RequestReading does.
            json.SerializerOptions.AllowDuplicateProperties = false;
        });
    }

    [LoggerMessage(EventId = LogEventIds.DataFolderOpen, Level = LogLevel.Warning,
        Message = "The data folder {Folder} can be listed by other users; its files are readable by this user only, but consider 'chmod 700'")]
    private static partial void LogDataFolderOpen(ILogger logger, string folder);
}
