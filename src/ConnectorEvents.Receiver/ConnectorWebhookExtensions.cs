using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

/// <summary>Registration of the Connector webhook receiver.</summary>
public static class ConnectorWebhookExtensions
{
    /// <summary>
    /// Adds the receiver: options (validated at start), the default in-memory de-duplication store (replace it by
    /// registering another <see cref="IWebhookDeduplicationStore"/>), and the queue of acknowledge-then-process mode.
    /// </summary>
    public static IServiceCollection AddConnectorEventsReceiver(this IServiceCollection services, Action<ConnectorWebhookOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ConnectorWebhookOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConnectorWebhookOptions>, ConnectorWebhookOptionsValidator>());
        services.TryAddSingleton<IWebhookDeduplicationStore>(provider =>
            new InMemoryWebhookDeduplicationStore(provider.GetRequiredService<IOptions<ConnectorWebhookOptions>>().Value.DeduplicationCapacity));
        services.TryAddSingleton<WebhookDispatcher>();
        services.TryAddSingleton<WebhookQueue>();
        services.TryAddSingleton<WebhookProcessor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WebhookQueueProcessor>());
        services.AddProblemDetails();
        return services;
    }

    /// <summary>
    /// Adds the receiver as <see cref="AddConnectorEventsReceiver(IServiceCollection, Action{ConnectorWebhookOptions})"/>
    /// does, with its settings read from <paramref name="settings"/> (e.g. <c>builder.Configuration.GetSection("Webhooks")</c>):
    /// <c>SigningSecrets</c> and <c>PublicKeys</c> as lists (<c>Webhooks__SigningSecrets__0=whsec_…</c>), <c>UrlToken</c>,
    /// <c>RequireSignature</c>, and every other property of <see cref="ConnectorWebhookOptions"/> by its name.
    /// <paramref name="configure"/> runs after the binding: it registers the handlers and may override settings.
    /// The section is the receiver's own: a missing secret, a key in the wrong list or a key that names no setting
    /// (a typo) stops the app at start with an error naming the configuration key (<c>Webhooks:SigningSecrets</c>),
    /// never its value.
    /// </summary>
    public static IServiceCollection AddConnectorEventsReceiver(
        this IServiceCollection services, IConfiguration settings, Action<ConnectorWebhookOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ConnectorWebhookOptions>().Configure(options =>
        {
            options.SettingsSection = settings is IConfigurationSection { Path.Length: > 0 } section ? section.Path : null;
            settings.Bind(options);
            options.UnknownSettings.AddRange(settings.GetChildren()
                .Select(child => child.Key)
                .Where(key => !ConnectorWebhookOptions.SettingNames.Contains(key, StringComparer.OrdinalIgnoreCase)));
        });
        return services.AddConnectorEventsReceiver(configure);
    }

    /// <summary>Maps the webhook endpoint (POST) at <paramref name="pattern"/>, e.g. <c>/webhooks</c>.</summary>
    public static IEndpointConventionBuilder MapConnectorWebhooks(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        if (endpoints.ServiceProvider.GetService<WebhookProcessor>() is null)
        {
            throw new InvalidOperationException("Call services.AddConnectorEventsReceiver(...) before MapConnectorWebhooks.");
        }
        return endpoints.MapPost(pattern, async (HttpContext context) =>
        {
            var processor = context.RequestServices.GetRequiredService<WebhookProcessor>();
            var result = await processor.HandleAsync(context).ConfigureAwait(false);
            await result.ExecuteAsync(context).ConfigureAwait(false);
        });
    }
}
