using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class IntegrationStateMachineTests
{
    // BRIEF §3, row by row, for both values of the remembered enabled flag. Creation is not a command here.
    // Anything not listed is refused.
    private static readonly (IntegrationState From, IntegrationCommand Command, bool EnabledBeforeCancel, IntegrationState To, string Action)[] Accepted =
    [
        (IntegrationState.Disabled, IntegrationCommand.Enable, false, IntegrationState.Enabled, IntegrationActions.Enabled),
        (IntegrationState.Disabled, IntegrationCommand.Enable, true, IntegrationState.Enabled, IntegrationActions.Enabled),

        (IntegrationState.Enabled, IntegrationCommand.Disable, false, IntegrationState.Disabled, IntegrationActions.Disabled),
        (IntegrationState.Enabled, IntegrationCommand.Disable, true, IntegrationState.Disabled, IntegrationActions.Disabled),

        (IntegrationState.Enabled, IntegrationCommand.Cancel, false, IntegrationState.Canceled, IntegrationActions.Canceled),
        (IntegrationState.Enabled, IntegrationCommand.Cancel, true, IntegrationState.Canceled, IntegrationActions.Canceled),
        (IntegrationState.Disabled, IntegrationCommand.Cancel, false, IntegrationState.Canceled, IntegrationActions.Canceled),
        (IntegrationState.Disabled, IntegrationCommand.Cancel, true, IntegrationState.Canceled, IntegrationActions.Canceled),

        (IntegrationState.Canceled, IntegrationCommand.Reinstate, true, IntegrationState.Enabled, IntegrationActions.Reinstated),
        (IntegrationState.Canceled, IntegrationCommand.Reinstate, false, IntegrationState.Disabled, IntegrationActions.Reinstated),

        (IntegrationState.Enabled, IntegrationCommand.Delete, false, IntegrationState.Deleted, IntegrationActions.Deleted),
        (IntegrationState.Enabled, IntegrationCommand.Delete, true, IntegrationState.Deleted, IntegrationActions.Deleted),
        (IntegrationState.Disabled, IntegrationCommand.Delete, false, IntegrationState.Deleted, IntegrationActions.Deleted),
        (IntegrationState.Disabled, IntegrationCommand.Delete, true, IntegrationState.Deleted, IntegrationActions.Deleted),
        (IntegrationState.Canceled, IntegrationCommand.Delete, false, IntegrationState.Deleted, IntegrationActions.Deleted),
        (IntegrationState.Canceled, IntegrationCommand.Delete, true, IntegrationState.Deleted, IntegrationActions.Deleted),

        (IntegrationState.Enabled, IntegrationCommand.RegenerateAccessToken, false, IntegrationState.Enabled, IntegrationActions.ApiKeyCreated),
        (IntegrationState.Enabled, IntegrationCommand.RegenerateAccessToken, true, IntegrationState.Enabled, IntegrationActions.ApiKeyCreated),
        (IntegrationState.Disabled, IntegrationCommand.RegenerateAccessToken, false, IntegrationState.Disabled, IntegrationActions.ApiKeyCreated),
        (IntegrationState.Disabled, IntegrationCommand.RegenerateAccessToken, true, IntegrationState.Disabled, IntegrationActions.ApiKeyCreated),
        (IntegrationState.Canceled, IntegrationCommand.RegenerateAccessToken, false, IntegrationState.Canceled, IntegrationActions.ApiKeyCreated),
        (IntegrationState.Canceled, IntegrationCommand.RegenerateAccessToken, true, IntegrationState.Canceled, IntegrationActions.ApiKeyCreated),
    ];

    /// <summary>Every (state, command, enabled-before-cancel) combination with what the brief expects of it.</summary>
    public static TheoryData<IntegrationState, IntegrationCommand, bool, IntegrationState?, string?> EveryCombination()
    {
        var data = new TheoryData<IntegrationState, IntegrationCommand, bool, IntegrationState?, string?>();
        foreach (var state in Enum.GetValues<IntegrationState>())
        {
            foreach (var command in Enum.GetValues<IntegrationCommand>())
            {
                foreach (var enabledBeforeCancel in new[] { false, true })
                {
                    var row = Array.Find(Accepted,
                        r => r.From == state && r.Command == command && r.EnabledBeforeCancel == enabledBeforeCancel);
                    if (row.Action is null)
                    {
                        data.Add(state, command, enabledBeforeCancel, null, null);
                    }
                    else
                    {
                        data.Add(state, command, enabledBeforeCancel, row.To, row.Action);
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCombination))]
    public void Each_combination_leads_where_the_brief_says_or_is_refused(
        IntegrationState current, IntegrationCommand command, bool enabledBeforeCancel, IntegrationState? expectedNext, string? expectedAction)
    {
        var outcome = IntegrationStateMachine.Apply(current, enabledBeforeCancel, command);

        if (expectedAction is null)
        {
            Assert.Null(outcome);
        }
        else
        {
            Assert.NotNull(outcome);
            Assert.Equal(expectedNext, outcome.Value.Next);
            Assert.Equal(expectedAction, outcome.Value.Action);
        }
    }

    [Fact]
    public void The_table_covers_every_state_command_and_flag()
    {
        var combinations = EveryCombination().Count;

        Assert.Equal(Enum.GetValues<IntegrationState>().Length * Enum.GetValues<IntegrationCommand>().Length * 2, combinations);
        Assert.Equal(48, combinations);
        Assert.Equal(22, Accepted.Length);
    }

    [Fact]
    public void Nothing_is_accepted_from_deleted()
    {
        foreach (var command in Enum.GetValues<IntegrationCommand>())
        {
            Assert.Null(IntegrationStateMachine.Apply(IntegrationState.Deleted, false, command));
            Assert.Null(IntegrationStateMachine.Apply(IntegrationState.Deleted, true, command));
        }
    }

    [Fact]
    public void Cancel_then_reinstate_returns_to_the_state_before_cancel()
    {
        foreach (var before in new[] { IntegrationState.Enabled, IntegrationState.Disabled })
        {
            var canceled = IntegrationStateMachine.Apply(before, false, IntegrationCommand.Cancel);
            Assert.Equal(IntegrationState.Canceled, canceled?.Next);

            var reinstated = IntegrationStateMachine.Apply(
                IntegrationState.Canceled, before == IntegrationState.Enabled, IntegrationCommand.Reinstate);

            Assert.Equal(before, reinstated?.Next);
        }
    }

    [Theory]
    [InlineData(IntegrationCommand.Enable, "Disabled")]
    [InlineData(IntegrationCommand.Disable, "Enabled")]
    [InlineData(IntegrationCommand.Cancel, "Enabled or Disabled")]
    [InlineData(IntegrationCommand.Reinstate, "Canceled")]
    [InlineData(IntegrationCommand.Delete, "any state but Deleted")]
    [InlineData(IntegrationCommand.RegenerateAccessToken, "any state but Deleted")]
    public void Refusal_messages_name_the_states_a_command_is_accepted_from(IntegrationCommand command, string expected)
    {
        Assert.Equal(expected, IntegrationStateMachine.AcceptedFrom(command));
    }
}
