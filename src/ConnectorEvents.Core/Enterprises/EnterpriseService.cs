using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Enterprises;

public sealed class EnterpriseService(GroupCommitWriter writer, TimeProvider time)
{
    public Task<EnterpriseRecord> CreateAsync(Guid? id, string name) =>
        writer.ExecuteAsync(tx =>
        {
            var enterpriseId = id ?? Guid.NewGuid();
            if (tx.FindEnterprise(enterpriseId) is not null)
            {
                throw new DomainException(DomainErrorKind.Conflict, $"An enterprise with the id '{enterpriseId}' exists already.", "Id");
            }
            var enterprise = new EnterpriseRecord(enterpriseId, name, time.GetUtcNow());
            tx.InsertEnterprise(enterprise);
            return enterprise;
        });

    public Task<ServiceRecord> CreateServiceAsync(Guid enterpriseId, Guid? id, string name) =>
        writer.ExecuteAsync(tx =>
        {
            if (tx.FindEnterprise(enterpriseId) is null)
            {
                throw DomainException.NotFound("enterprise", enterpriseId);
            }
            var serviceId = id ?? Guid.NewGuid();
            if (tx.FindService(serviceId) is not null)
            {
                throw new DomainException(DomainErrorKind.Conflict, $"A service with the id '{serviceId}' exists already.", "Id");
            }
            var service = new ServiceRecord(serviceId, enterpriseId, name, time.GetUtcNow());
            tx.InsertService(service);
            return service;
        });

    /// <summary>
    /// Deletes an enterprise whose integrations are all Deleted and whose messages are all delivered or given up, with its
    /// services, its General event log and those integrations; emits nothing.
    /// </summary>
    public Task DeleteAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            if (id == OperationalEvents.EnterpriseId)
            {
                throw new DomainException(DomainErrorKind.Conflict, "The server keeps this enterprise for its operational webhooks.");
            }
            _ = tx.FindEnterprise(id) ?? throw DomainException.NotFound("enterprise", id);
            if (tx.FindRemovalHold(IntegrationOwner.Enterprise, id).Refusal("enterprise") is { } refusal)
            {
                throw refusal;
            }
            tx.DeleteEnterprise(id);
            return true;
        });
}
