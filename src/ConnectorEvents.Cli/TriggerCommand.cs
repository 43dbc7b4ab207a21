using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary><c>trigger &lt;event&gt; --url …</c>: sends signed sample webhooks of any contract version.</summary>
internal static class TriggerCommand
{
    public static Command Create(Func<CliConsoles> consoles)
    {
        var eventArgument = new Argument<string?>("event")
        {
            Description = "The action or discriminator to send (e.g. IntegrationCreated, CustomerAdded), or 'all'.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var url = new Option<string?>("--url") { Description = "Where to POST (http:// or https://)." };
        var secret = new Option<string[]>("--secret")
        {
            Description = "Signing secret: whsec_<base64> signs v1 (HMAC), whsk_<base64> signs v1a (Ed25519); repeat to sign with "
                + "several, as during a rotation. Without one the webhook goes unsigned.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var version = new Option<string?>("--version")
        {
            Description = $"Contract version of the body: {ContractVersion.KnownTexts} (default {ContractVersion.Default.Text}).",
        };
        var token = new Option<string?>("--token") { Description = "Appended to the URL as ?Token=… (the platform's URL token)." };
        var list = new Option<bool>("--list") { Description = "List the events the version knows, and send nothing." };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for each answer.",
            DefaultValueFactory = _ => 10,
        };

        var overrides = new Option<string[]>("--override")
        {
            Description = "Path=Value: set one value of the body before signing, e.g. Data.Enterprise.Name=Foo or Events[0].Value.Id=…; "
                + "the value is JSON when it parses as JSON, else a string. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var data = new Option<string?>("--data") { Description = "Send this JSON file's body instead of the sample (still signed)." };

        var command = new Command("trigger", "Send a realistic, signed sample of a documented webhook event to a URL.")
        {
            eventArgument, url, secret, version, token, list, timeout, overrides, data,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(consoles(), new TriggerRequest(
            parse.GetValue(eventArgument), parse.GetValue(url), parse.GetValue(secret) ?? [], parse.GetValue(version),
            parse.GetValue(token), parse.GetValue(list), parse.GetValue(timeout), parse.GetValue(overrides) ?? [], parse.GetValue(data)),
            cancellationToken));
        return command;
    }

    private sealed record TriggerRequest(
        string? Event, string? Url, string[] Secrets, string? Version, string? Token, bool List, double TimeoutSeconds,
        string[] Overrides, string? DataFile);

    private static async Task<int> RunAsync(CliConsoles consoles, TriggerRequest request, CancellationToken cancellationToken)
    {
        var version = ContractVersion.Default;
        if (request.Version is not null && !ContractVersion.TryParse(request.Version, out version))
        {
            return consoles.Fail(ExitCodes.InvalidInput,
                $"Unknown contract version '{request.Version}'. Known versions: {ContractVersion.KnownTexts}.");
        }
        if (request.List)
        {
            PrintList(consoles.Out, version);
            return ExitCodes.Ok;
        }
        if (string.IsNullOrWhiteSpace(request.Event) && request.DataFile is null)
        {
            return consoles.Fail(ExitCodes.InvalidInput,
                $"Name an event to send, or 'all', or give --data file.json. 'trigger --list --version {version.Text}' shows the events.");
        }
        string? eventError = null;
        if (request.Event is not null && request.Event.StartsWith('-'))
        {
            return consoles.Fail(ExitCodes.Syntax, $"Unknown option '{request.Event}'. 'trigger --help' lists the options.");
        }
        var samples = string.IsNullOrWhiteSpace(request.Event) ? [] : EventCatalog.Resolve(version, request.Event!.Trim(), out eventError);
        if (samples is null)
        {
            return consoles.Fail(ExitCodes.InvalidInput, eventError!);
        }
        if ((request.DataFile is not null || request.Overrides.Length > 0) && samples.Count > 1)
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--data and --override apply to one event, not to 'all'.");
        }
        if (request.DataFile is not null)
        {
            if (!TryReadData(request.DataFile, out var body, out var dataError))
            {
                return consoles.Fail(ExitCodes.InvalidInput, dataError);
            }
            samples = [new SamplePayload(samples.Count == 1 ? samples[0].Name : Path.GetFileName(request.DataFile), PayloadKind.GeneralMessage, body)];
        }
        if (request.Overrides.Length > 0)
        {
            var node = JsonNode.Parse(samples[0].Body)!;
            string? overrideError;
            try
            {
                BodyOverrides.TryApply(node, request.Overrides, out overrideError);
            }
            catch (ArgumentException duplicate) // a JSON object of the --data file names a property twice
            {
                overrideError = $"--override cannot edit {request.DataFile}: {duplicate.Message}";
            }
            if (overrideError is not null)
            {
                return consoles.Fail(ExitCodes.InvalidInput, overrideError);
            }
            samples = [samples[0] with { Body = JsonText.Utf8(node) }];
        }
        if (string.IsNullOrWhiteSpace(request.Url))
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--url is required: where should the webhook go?");
        }
        if (!Uri.TryCreate(request.Url.Trim(), UriKind.Absolute, out var target)
            || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(target.Host))
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--url must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:4000/hook.");
        }
        if (!string.IsNullOrEmpty(request.Token))
        {
            target = WithToken(target, request.Token);
        }
        var keys = new List<SigningKey>();
        foreach (var secret in request.Secrets)
        {
            if (!Secrets.TryReadSigningKey(secret.Trim(), out var key, out var secretError))
            {
                return consoles.Fail(ExitCodes.InvalidInput, secretError);
            }
            keys.Add(key);
        }
        if (request.TimeoutSeconds is <= 0 or > 3600 || double.IsNaN(request.TimeoutSeconds))
        {
            return consoles.Fail(ExitCodes.InvalidInput, "--timeout must be between 0 and 3600 seconds.");
        }

        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(request.TimeoutSeconds) })
        {
            Timeout = TimeSpan.FromSeconds(request.TimeoutSeconds),
        };
        var shown = Secrets.Redact(target);
        consoles.Out.MarkupLine(
            $"Sending {samples.Count} {(samples.Count == 1 ? "event" : "events")} of contract {version.Text} to [bold]{Markup.Escape(shown)}[/]"
            + (keys.Count == 0 ? " [yellow](unsigned: no --secret)[/]" : Markup.Escape(Signing(keys))));
        var rejected = 0;
        foreach (var sample in samples)
        {
            var outcome = await SendAsync(client, target, sample, keys, cancellationToken).ConfigureAwait(false);
            if (outcome.Failure is not null)
            {
                return consoles.Fail(ExitCodes.Unreachable, $"Could not deliver {sample.Name} to {shown}: {outcome.Failure}");
            }
            var ok = (int)outcome.Status >= 200 && (int)outcome.Status < 300;
            rejected += ok ? 0 : 1;
            var color = ok ? "green" : "red";
            var status = string.Create(CultureInfo.InvariantCulture, $"{(int)outcome.Status} {outcome.Status}");
            consoles.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Markup.Escape(sample.Name),-26} [{color}]{Markup.Escape(status)}[/] in {outcome.Elapsed.TotalMilliseconds:0} ms  webhook-id {outcome.MessageId}"));
            if (!ok && !string.IsNullOrWhiteSpace(outcome.BodyStart))
            {
                consoles.Out.MarkupLine($"    answer: {Markup.Escape(outcome.BodyStart)}");
            }
        }
        if (rejected > 0)
        {
            return consoles.Fail(ExitCodes.NotAccepted, rejected == samples.Count && samples.Count == 1
                ? "The receiver did not accept the webhook (not a 2xx answer)."
                : $"The receiver did not accept {rejected} of {samples.Count} webhooks (not a 2xx answer).");
        }
        return ExitCodes.Ok;
    }

    /// <summary>How the webhooks are signed; for v1a the public keys that verify them (public, so they may be shown).</summary>
    private static string Signing(List<SigningKey> keys)
    {
        var versions = keys.Select(k => k.Scheme == SigningScheme.Hmac ? "v1" : "v1a").Distinct();
        var publicKeys = keys.Where(k => k.PublicKey is not null).Select(k => k.PublicKey!).ToList();
        return $" (signed {string.Join(" and ", versions)}"
            + (publicKeys.Count == 0 ? ")" : $"; verify v1a with {string.Join(" or ", publicKeys)})");
    }

    private sealed record Outcome(HttpStatusCode Status, TimeSpan Elapsed, string MessageId, string? BodyStart, string? Failure);

    private static async Task<Outcome> SendAsync(HttpClient client, Uri target, SamplePayload sample, List<SigningKey> keys,
        CancellationToken cancellationToken)
    {
        var messageId = "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, target);
        request.Content = new ByteArrayContent(sample.Body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        if (keys.Count > 0)
        {
            request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigner.Sign(keys, messageId, timestamp, sample.Body));
        }
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("connector-events", typeof(TriggerCommand).Assembly.GetName().Version?.ToString(3)));

        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var bodyStart = text.Length > 200 ? text[..200] + "…" : text;
            return new Outcome(response.StatusCode, elapsed, messageId, bodyStart.ReplaceLineEndings(" "), null);
        }
        catch (HttpRequestException exception)
        {
            return new Outcome(0, Stopwatch.GetElapsedTime(started), messageId, null, TransportFailure.Describe(exception, "a receiver"));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(0, Stopwatch.GetElapsedTime(started), messageId, null,
                string.Create(CultureInfo.InvariantCulture, $"no answer within {client.Timeout.TotalSeconds:0.#} s."));
        }
    }

    /// <summary>The bytes of a JSON file, unchanged, or why they cannot be sent.</summary>
    private static bool TryReadData(string file, [NotNullWhen(true)] out byte[]? body, [NotNullWhen(false)] out string? error)
    {
        body = null;
        error = null;
        try
        {
            body = File.ReadAllBytes(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"--data: cannot read '{file}': {exception.Message}";
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            error = $"--data: '{file}' is not JSON: {exception.Message}";
            body = null;
            return false;
        }
        return true;
    }

    private static Uri WithToken(Uri target, string token)
    {
        var query = target.Query.TrimStart('?');
        var added = "Token=" + Uri.EscapeDataString(token);
        return new UriBuilder(target) { Query = query.Length == 0 ? added : query + "&" + added }.Uri;
    }

    private static void PrintList(IAnsiConsole console, ContractVersion version)
    {
        var table = new Table().Border(TableBorder.Simple).Title($"Webhook events of contract version {version.Text}");
        table.AddColumn("Event");
        table.AddColumn("Kind");
        foreach (var sample in EventCatalog.Webhooks(version))
        {
            table.AddRow(Markup.Escape(sample.Name), sample.Kind == PayloadKind.IntegrationWebhook ? "Integration Webhook" : "General Webhook");
        }
        console.Write(table);
        console.MarkupLine("Send one with [bold]trigger <event> --url <url>[/], or every one with [bold]trigger all --url <url>[/].");
    }
}
