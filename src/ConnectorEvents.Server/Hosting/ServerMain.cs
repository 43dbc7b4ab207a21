using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Runs the server as a program: a start that cannot succeed (an address in use, a setting that is wrong or missing) is one
/// line on standard error and exit code 1, before anything else starts; a normal stop is exit code 0, a stop because a
/// background service failed exit code 1.
/// </summary>
public static class ServerMain
{
    public const int Failed = 1;

    public static async Task<int> RunAsync(string[] args, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        error ??= Console.Error;
        WebApplication app;
        try
        {
            app = ServerHost.Build(args);
        }
#pragma warning disable CA1031 // whatever stops the build, the operator gets one line, not a stack trace
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await error.WriteLineAsync($"ConnectorEvents could not start: {Reason(ex)}").ConfigureAwait(false);
            return Failed;
        }
        await using (app.ConfigureAwait(false))
        {
            var startFailure = FindUnavailableAddress(app.Configuration)
                ?? (await FailureOf(() => app.StartAsync(cancellationToken)).ConfigureAwait(false) is { } failure ? Reason(failure) : null);
            if (startFailure is not null)
            {
                await error.WriteLineAsync($"ConnectorEvents could not start: {startFailure}").ConfigureAwait(false);
                return Failed;
            }
            if (await FailureOf(() => app.WaitForShutdownAsync(cancellationToken)).ConfigureAwait(false) is { } stopFailure)
            {
                await error.WriteLineAsync($"ConnectorEvents did not stop cleanly: {Reason(stopFailure)}").ConfigureAwait(false);
                return Failed;
            }
            // A background service that failed stopped the host (its Critical line is in the log): not a normal stop, so
            // a supervisor that restarts on failure does.
            return app.Services.GetServices<IHostedService>().OfType<BackgroundService>().Any(s => s.ExecuteTask is { IsFaulted: true })
                ? Failed : 0;
        }
    }

    private static async Task<Exception?> FailureOf(Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // whatever stops the server, the operator gets one line
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    /// <summary>Why, in one line: the settings that failed validation, or the exception's message.</summary>
    private static string Reason(Exception exception)
    {
        var reason = exception switch
        {
            OptionsValidationException invalid => string.Join(" ", invalid.Failures),
            // The configuration binder names the setting; the exception inside it says what is wrong with the value.
            InvalidOperationException { InnerException: FormatException or ArgumentException } binding =>
                $"{binding.Message} {binding.InnerException!.Message}",
            AggregateException or System.Reflection.TargetInvocationException when exception.InnerException is { } inner => Reason(inner),
            _ => exception.Message,
        };
        return string.Join(' ', reason.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// Tries each address the server will listen on (<c>urls</c>, <c>Health:Port</c>) before any part of it starts, so that a
    /// taken port stops the start at once, with nothing half started to log or to stop. Null when all are free.
    /// </summary>
    public static string? FindUnavailableAddress(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var url in (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                return $"'{url}' is not a URL to listen on (urls, --urls, ASPNETCORE_URLS).";
            }
            foreach (var (endpoint, optional) in EndpointsOf(address))
            {
                if (TryBind(endpoint) is { } failure && !(optional && failure == SocketError.AddressNotAvailable))
                {
                    return Unavailable(url, failure, "--urls or ASPNETCORE_URLS");
                }
            }
        }
        if (int.TryParse(configuration["Health:Port"], out var healthPort) && healthPort is > 0 and <= 65535
            && IPAddress.TryParse(configuration["Health:Address"] ?? "0.0.0.0", out var healthAddress)
            && TryBind(new IPEndPoint(healthAddress, healthPort)) is { } healthFailure)
        {
            return Unavailable($"port {healthPort} (Health:Port)", healthFailure, "Health:Port");
        }
        return null;
    }

    private static string Unavailable(string what, SocketError failure, string setting) => failure switch
    {
        SocketError.AddressAlreadyInUse => $"{what} is in use, by another program or another ConnectorEvents server; stop it or choose another address with {setting}.",
        SocketError.AccessDenied => $"listening on {what} is not permitted (ports below 1024 need privileges); choose another with {setting}.",
        SocketError.AddressNotAvailable => $"{what} is not an address of this machine; choose another with {setting}.",
        _ => $"cannot listen on {what} ({failure}).",
    };

    // As Kestrel reads them: "localhost" is both loopbacks (either may be missing), a name or a wildcard every address.
    private static IEnumerable<(IPEndPoint Endpoint, bool Optional)> EndpointsOf(BindingAddress address)
    {
        if (address.IsUnixPipe || address.Port == 0)
        {
            yield break;
        }
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            yield return (new IPEndPoint(IPAddress.Loopback, address.Port), true);
            yield return (new IPEndPoint(IPAddress.IPv6Loopback, address.Port), true);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            yield return (new IPEndPoint(ip, address.Port), false);
        }
        else
        {
            yield return (new IPEndPoint(IPAddress.Any, address.Port), false);
        }
    }

    private static SocketError? TryBind(IPEndPoint endpoint)
    {
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endpoint);
            return null;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode;
        }
    }
}
