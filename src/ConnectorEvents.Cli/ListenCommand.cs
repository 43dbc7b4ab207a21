using System.CommandLine;
using System.Globalization;
using System.Net;
using ConnectorEvents.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NSec.Cryptography;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary><c>listen</c>: a local receiver that prints each webhook readably and checks its signature (v1 with secrets, v1a with public keys).</summary>
internal static class ListenCommand
{
    private const int MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>How long a forwarded webhook may wait for the endpoint; the server's own deliveries give up sooner.</summary>
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(Func<CliConsoles> consoles)
    {
        var port = new Option<int>("--port") { Description = "Port to listen on (0 picks a free one).", DefaultValueFactory = _ => 4000 };
        var host = new Option<string>("--host") { Description = "Address to bind.", DefaultValueFactory = _ => "127.0.0.1" };
        var secret = new Option<string[]>("--secret")
        {
            Description = "HMAC secret(s) to verify v1 signatures with, whsec_<base64>; repeat during a rotation.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var publicKey = new Option<string[]>("--public-key")
        {
            Description = "Ed25519 public key(s) to verify v1a signatures with, whpk_<base64>; repeat during a rotation.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var status = new Option<int?>("--status") { Description = "HTTP status to answer with (200; not with --forward-to, which answers the endpoint's)." };
        var path = new Option<string>("--path") { Description = "Only requests under this path are webhooks; others get 404.", DefaultValueFactory = _ => "/" };
        var forwardTo = new Option<string?>("--forward-to")
        {
            Description = "After verifying and printing, send each webhook on to this URL (same body and headers) and answer the "
                + "sender with its status (502 when it cannot be reached, 504 when it does not answer in time).",
        };
        var printJson = new Option<bool>("--print-json") { Description = "Print each body as indented JSON after its summary." };

        var command = new Command("listen", "Receive webhooks locally and print them readably, verifying Standard Webhooks signatures.")
        {
            port, host, secret, publicKey, status, path, forwardTo, printJson,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(consoles(), new ListenRequest(parse.GetValue(port), parse.GetValue(host)!,
            parse.GetValue(secret) ?? [], parse.GetValue(publicKey) ?? [], parse.GetValue(status), parse.GetValue(path)!,
            parse.GetValue(forwardTo), parse.GetValue(printJson)), cancellationToken));
        return command;
    }

    private sealed record ListenRequest(
        int Port, string Host, string[] Secrets, string[] PublicKeys, int? Status, string Path, string? ForwardTo, bool PrintJson);

    private static async Task<int> RunAsync(CliConsoles consoles, ListenRequest request, CancellationToken cancellationToken)
    {
        var (port, host, secrets, publicKeyTexts, _, path, _, _) = request;
        var status = request.Status ?? StatusCodes.Status200OK;
        if (port is < 0 or > 65535)
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--port must be between 0 and 65535.");
        }
        if (status is < 200 or > 599)
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--status must be an HTTP status between 200 and 599.");
        }
        if (!path.StartsWith('/'))
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--path must start with '/'.");
        }
        Uri? forwardTarget = null;
        if (request.ForwardTo is not null)
        {
            if (request.Status is not null)
            {
                return consoles.Fail(ExitCodes.InvalidInput, "--status and --forward-to exclude each other: a forwarded webhook is answered with the endpoint's status.");
            }
            if (!Uri.TryCreate(request.ForwardTo.Trim(), UriKind.Absolute, out forwardTarget)
                || (forwardTarget.Scheme != Uri.UriSchemeHttp && forwardTarget.Scheme != Uri.UriSchemeHttps)
                || string.IsNullOrEmpty(forwardTarget.Host))
            {
                return consoles.Fail(ExitCodes.InvalidInput, "--forward-to must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5000/webhooks.");
            }
        }
        var keys = new List<byte[]>();
        foreach (var secret in secrets)
        {
            if (!Secrets.TryReadKey(secret.Trim(), out var key, out var error))
            {
                return consoles.Fail(ExitCodes.InvalidInput, error);
            }
            keys.Add(key);
        }
        var publicKeys = new List<PublicKey>();
        foreach (var text in publicKeyTexts)
        {
            if (!Secrets.TryReadPublicKey(text.Trim(), out var key, out var error))
            {
                return consoles.Fail(ExitCodes.InvalidInput, error);
            }
            publicKeys.Add(key);
        }
        var bindHost = IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]" : host;

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{bindHost}:{port}"));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        using var forwarder = forwardTarget is null ? null : new WebhookForwarder(forwardTarget, ForwardTimeout);
        var receiver = new Receiver(consoles.Out, new SignatureVerifier(keys, publicKeys, TimeProvider.System, SignatureVerifier.DefaultTolerance),
            status, path.TrimEnd('/'), forwarder, request.PrintJson);
        app.Run(receiver.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            return consoles.Fail(ExitCodes.CannotListen, $"Cannot listen on {bindHost}:{port}: {exception.Message}");
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var bound in addresses)
        {
            consoles.Out.MarkupLine($"Listening on [bold]{Markup.Escape(bound.TrimEnd('/') + (path == "/" ? "/" : path))}[/]"
                + (forwarder is null
                    ? string.Create(CultureInfo.InvariantCulture, $", answering {status}")
                    : $", forwarding to {Markup.Escape(Secrets.Redact(forwarder.Target))}")
                + Checking(keys.Count, publicKeys.Count)
                + ". Press Ctrl+C to stop.");
        }
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: stop cleanly below.
        }
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await app.StopAsync(stopping.Token).ConfigureAwait(false);
        }
        consoles.Out.MarkupLine($"Stopped after {receiver.Count} request{(receiver.Count == 1 ? "" : "s")}.");
        return ExitCodes.Ok;
    }

    private static string Checking(int secrets, int publicKeys)
    {
        if (secrets + publicKeys == 0)
        {
            return ", no --secret or --public-key (signatures are not checked)";
        }
        var with = new List<string>();
        if (secrets > 0)
        {
            with.Add(string.Create(CultureInfo.InvariantCulture, $"{secrets} secret{(secrets == 1 ? "" : "s")} (v1)"));
        }
        if (publicKeys > 0)
        {
            with.Add(string.Create(CultureInfo.InvariantCulture, $"{publicKeys} public key{(publicKeys == 1 ? "" : "s")} (v1a)"));
        }
        return ", verifying with " + string.Join(" and ", with);
    }

    /// <summary>Answers every request and prints one block per webhook; printing is serialized.</summary>
    private sealed class Receiver(IAnsiConsole console, SignatureVerifier verifier, int status, string path, WebhookForwarder? forwarder,
        bool printJson)
    {
        private readonly Lock _print = new();
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public async Task HandleAsync(HttpContext context)
        {
            Interlocked.Increment(ref _count);
            var request = context.Request;
            var time = DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            var requestPath = request.Path.Value ?? "/";
            if (path.Length > 0 && !request.Path.StartsWithSegments(path, StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                Print($"[grey]{time}  {Markup.Escape(request.Method)} {Markup.Escape(requestPath)} → 404 (listening on {Markup.Escape(path)})[/]");
                return;
            }
            if (!HttpMethods.IsPost(request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                Print($"[grey]{time}  {Markup.Escape(request.Method)} {Markup.Escape(requestPath)} → 405 (webhooks are POSTs)[/]");
                return;
            }

            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            var body = buffer.ToArray();
            var headers = request.Headers;
            var verdict = verifier.Verify(headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"], body);
            var forwarded = forwarder is null ? null : await forwarder.ForwardAsync(request, body, context.RequestAborted).ConfigureAwait(false);
            var answered = forwarded?.Status ?? status;

            var lines = new List<string>
            {
                string.Create(CultureInfo.InvariantCulture, $"[bold]{time}[/]  POST {Markup.Escape(requestPath)} → {answered}  ({body.Length} bytes)"),
            };
            lines.AddRange(Describe(body));
            var id = headers["webhook-id"].ToString();
            var color = verdict.Kind switch { VerdictKind.Verified => "green", VerdictKind.NotVerified => "red", _ => "yellow" };
            lines.Add($"  webhook-id {(id.Length == 0 ? "(none)" : Markup.Escape(id))}  [{color}]{Markup.Escape(verdict.Text)}[/]");
            if (forwarded is not null)
            {
                lines.Add(Forwarded(forwarder!.TargetFor(request.QueryString), forwarded));
            }
            if (printJson)
            {
                lines.AddRange(JsonText.Pretty(body) is { } pretty
                    ? JsonText.Indent(pretty).Select(Markup.Escape)
                    : [$"  [yellow]body is not JSON:[/] {Markup.Escape(System.Text.Encoding.UTF8.GetString(body))}"]);
            }
            Print([.. lines]);

            if (forwarded is null)
            {
                context.Response.StatusCode = status;
                return;
            }
            await WebhookForwarder.AnswerAsync(context.Response, forwarded, context.RequestAborted).ConfigureAwait(false);
        }

        private static string Forwarded(Uri target, WebhookForwarder.Outcome outcome)
        {
            var shown = Markup.Escape(Secrets.Redact(target));
            if (outcome.Failure is not null)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"  [red]could not forward to {shown}: {Markup.Escape(outcome.Failure)} Answered {outcome.Status}.[/]");
            }
            var ok = outcome.Status is >= 200 and < 300;
            var phrase = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(outcome.Status);
            return string.Create(CultureInfo.InvariantCulture,
                $"  forwarded to {shown} → [{(ok ? "green" : "red")}]{outcome.Status} {Markup.Escape(phrase)}[/] in {outcome.Elapsed.TotalMilliseconds:0} ms");
        }

        private static IEnumerable<string> Describe(byte[] body)
        {
            WebhookReading reading;
            try
            {
                reading = WebhookReader.Read(body);
            }
            catch (ContractReadException exception)
            {
                return [$"  [red]not an API Events body:[/] {Markup.Escape(exception.Message)}"];
            }
            var contract = $"  contract {Markup.Escape(reading.Versions.ToString())}";
            switch (reading)
            {
                case IntegrationWebhookReading integration:
                    var (reference, enterprise) = integration.Data switch
                    {
                        IntegrationCreatedData created => (created.Integration, $"  enterprise {created.Enterprise.Id} {created.Enterprise.Name}"),
                        IntegrationStateData state => (state.Integration, ""),
                        IntegrationDeletedData deleted => (deleted.Integration, ""),
                        IntegrationApiKeyCreatedData apiKey => (apiKey.Integration, ""),
                        _ => ((IntegrationRef?)null, ""),
                    };
                    var who = reference is null ? "" : $"  integration {reference.Id} {reference.Name}";
                    return
                    [
                        $"  [bold]{Markup.Escape(integration.Action)}[/]{(integration.IsKnownAction ? "" : " [yellow](undocumented action)[/]")}"
                            + Markup.Escape(who + enterprise),
                        contract,
                    ];
                case GeneralMessageReading general:
                    return
                    [
                        $"  [bold]{Markup.Escape(string.Join(", ", general.Discriminators))}[/]"
                            + Markup.Escape($"  ({general.Events.Count} event{(general.Events.Count == 1 ? "" : "s")})  enterprise {general.EnterpriseId}  integration {general.IntegrationId}"),
                        contract + (general.Entities is null ? "" : "  with Entities"),
                    ];
                default:
                    return [contract];
            }
        }

        private void Print(params string[] lines)
        {
            lock (_print)
            {
                foreach (var line in lines)
                {
                    console.MarkupLine(line);
                }
            }
        }
    }
}
