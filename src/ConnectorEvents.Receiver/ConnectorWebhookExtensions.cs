using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
