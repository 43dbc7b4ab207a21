using ConnectorEvents.Contracts;

namespace ConnectorEvents.Core.Integrations;

public enum IntegrationState
{
    Enabled,
    Disabled,
    Canceled,
    Deleted,
}

public enum IntegrationCommand
{
    Enable,
    Disable,
    Cancel,
    Reinstate,
    Delete,
    RegenerateAccessToken,
}

/// <summary>The transitions of BRIEF §3. Pure: storage and webhooks are the caller's business.</summary>
public static class IntegrationStateMachine
{
    /// <summary>The state a command leads to and the webhook action it emits, or null when it is refused.</summary>
    public static (IntegrationState Next, string Action)? Apply(
        IntegrationState current, bool enabledBeforeCancel, IntegrationCommand command) =>
        (command, current) switch
        {
            (IntegrationCommand.Enable, IntegrationState.Disabled) => (IntegrationState.Enabled, IntegrationActions.Enabled),
            (IntegrationCommand.Disable, IntegrationState.Enabled) => (IntegrationState.Disabled, IntegrationActions.Disabled),
            (IntegrationCommand.Cancel, IntegrationState.Enabled or IntegrationState.Disabled) =>
                (IntegrationState.Canceled, IntegrationActions.Canceled),
            (IntegrationCommand.Reinstate, IntegrationState.Canceled) =>
                (enabledBeforeCancel ? IntegrationState.Enabled : IntegrationState.Disabled, IntegrationActions.Reinstated),
            (IntegrationCommand.Delete, not IntegrationState.Deleted) => (IntegrationState.Deleted, IntegrationActions.Deleted),
            (IntegrationCommand.RegenerateAccessToken, not IntegrationState.Deleted) => (current, IntegrationActions.ApiKeyCreated),
            _ => null,
        };

    /// <summary>The states a command is accepted from, for refusal messages.</summary>
    public static string AcceptedFrom(IntegrationCommand command) => command switch
    {
        IntegrationCommand.Enable => "Disabled",
        IntegrationCommand.Disable => "Enabled",
        IntegrationCommand.Cancel => "Enabled or Disabled",
        IntegrationCommand.Reinstate => "Canceled",
        _ => "any state but Deleted",
    };
}
