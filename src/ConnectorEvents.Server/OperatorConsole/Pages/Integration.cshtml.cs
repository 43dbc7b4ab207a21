using ConnectorEvents.Core;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>One integration: its state with the transitions it allows (Admin), its subscriptions and its last messages.</summary>
public sealed class IntegrationModel(IConnectorStore store, IntegrationService integrations) : ConsolePageModel
{
    public IntegrationRecord Integration { get; private set; } = null!;
    public string EnterpriseName { get; private set; } = "";
    public string ClientName { get; private set; } = "";
    public IReadOnlyList<MessageRecord> Messages { get; private set; } = [];

    /// <summary>A token just issued by a regeneration, shown on this answer only.</summary>
    public string? IssuedAccessToken { get; private set; }

    /// <summary>The commands the state machine allows from the integration's state, in the order buttons show them.</summary>
    public IReadOnlyList<IntegrationCommand> Allowed { get; private set; } = [];

    public IActionResult OnGet(Guid id) => Load(id) ? Page() : NotFound();

    public Task<IActionResult> OnPostAsync(Guid id, IntegrationCommand? command) => command == IntegrationCommand.RegenerateAccessToken
        ? ShowOnceAsync(() => integrations.ApplyAsync(id, IntegrationCommand.RegenerateAccessToken), issued =>
        {
            if (!Load(id))
            {
                return NotFound();
            }
            IssuedAccessToken = issued.IssuedAccessToken;
            return Page();
        }, new { id })
        : ActAsync(async () =>
        {
            if (command is not { } known)
            {
                throw new DomainException(DomainErrorKind.Invalid, $"Choose one of {string.Join(", ", Enum.GetNames<IntegrationCommand>())}.");
            }
            var result = await integrations.ApplyAsync(id, known).ConfigureAwait(false);
            return $"{Verb(known)}: the integration is {result.Integration.State}.";
        }, new { id });

    private bool Load(Guid id)
    {
        if (store.FindIntegration(id) is not { } integration)
        {
            return false;
        }
        Integration = integration;
        EnterpriseName = store.FindEnterprise(integration.EnterpriseId)?.Name ?? "(deleted)";
        ClientName = store.FindClient(integration.ClientId)?.Name ?? "(deleted)";
        Messages = store.ListMessages(new MessageQuery(null, id, null, null, 20));
        Allowed = Enum.GetValues<IntegrationCommand>()
            .Where(c => IntegrationStateMachine.Apply(integration.State, integration.EnabledBeforeCancel, c) is not null)
            .ToList();
        return true;
    }

    public static string Verb(IntegrationCommand command) => command switch
    {
        IntegrationCommand.RegenerateAccessToken => "Issue a new access token",
        _ => command.ToString(),
    };

    public static string Consequence(IntegrationCommand command) => command switch
    {
        IntegrationCommand.Enable => "Emits IntegrationEnabled; the integration receives events again.",
        IntegrationCommand.Disable => "Emits IntegrationDisabled; General events stop until it is enabled.",
        IntegrationCommand.Cancel => "Emits IntegrationCanceled; it can be reinstated later.",
        IntegrationCommand.Reinstate => "Emits IntegrationReinstated; it returns to its state before the cancel.",
        IntegrationCommand.Delete => "Emits IntegrationDeleted. This cannot be undone.",
        _ => "Emits IntegrationApiKeyCreated with the new token; the old token stops working.",
    };
}
