namespace ConnectorEvents.Contracts.Tests;

/// <summary>
/// The request-body examples of the seeds and reference pages, copied as documented (indentation and all), so the
/// golden tests compare against the documentation itself.
/// </summary>
internal static class DocumentedExamples
{
    /// <summary>Seed 001 (2019-05), "Integration event" response, verbatim.</summary>
    public const string May2019Created = """
        {
            "Action": "IntegrationCreated",
            "CreatedUtc": "2019-05-24T07:35:35Z",
            "IsEnabled": true,
            "Data": {
                "AccessToken": "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D",
                "Enterprise": {
                    "Id": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
                    "Name": "Connector API Hotel"
                    },
                "Requestor": {
                    "Name": "Mews Integrations",
                    "Email": "integrations@mewssystems.com"
                    },
                "Integration": {
                    "Id": "c66ef7b2-39d2-4632-943d-115ede9cb810",
                    "Name": "Example"
                }
            }
        }
        """;

    /// <summary>Seed 004 (2019-12), "Message", verbatim.</summary>
    public const string December2019Created = """
        {
            "Action": "IntegrationCreated",
            "Data": {
                "Enterprise": {
                    "Id": "8865aa96-f62d-4f9b-a912-ab2100f60f42",
                    "Name": "Sample Chain Hotel 1"
                },
                "Requestor": null,
                "AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
                "CreatedUtc": "2019-12-13T14:42:52Z",
                "IsEnabled": true,
                "Integration": {
                    "Id": "9e5e84e9-974d-4f16-9662-ab2200f27cb1",
                    "Name": "WebhookTEST"
                }
            }
        }
        """;

    /// <summary>Seed 003 (2021-01), "Integration message" request body, verbatim.</summary>
    public const string January2021Created = """
        {
            "Action": "IntegrationCreated",
            "Data": {
                "Enterprise": {
                    "Id": "8865aa96-f62d-4f9b-a912-ab2100f60f42",
                    "Name": "Sample Chain Hotel 1"
                },
                "Service": {
                    "Id": "9745ce3a-8dbb-4cc0-a550-55f9ff67b242",
                    "Name": "Accommodation"
                },
                "Requestor": null,
                "AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
                "CreatedUtc": "2019-12-13T14:42:52Z",
                "IsEnabled": true,
                "Integration": {
                    "Id": "9e5e84e9-974d-4f16-9662-ab2200f27cb1",
                    "Name": "WebhookTEST"
                }
            }
        }
        """;

    /// <summary>Seed 003 (2021-01), "General message" request body, verbatim. Not strict JSON: the Events array ends with a comma (JavaScript style; the block is fenced as javascript).</summary>
    public const string January2021General = """
        {
            "EnterpriseId": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
            "IntegrationId": "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
            "Events": [
                {
                    "Discriminator": "ServiceOrderUpdated",
                    "Value": {
                        "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d"
                    }
                },
                {
                    "Discriminator": "ResourceUpdated",
                    "Value": {
                        "Id": "7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"
                    }
                },
            ],
            "Entities": {
                "ServiceOrders": [
                    {
                        "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d",
                        "ServiceId": "bd26d8db-86da-4f96-9efc-e5a4654a4a94",
                        "GroupId": "94843f6f-3be3-481b-a1c7-06458774c3df",
                        "Number": "52",
                        "State": "Processed",
                        "Origin": "Connector",
                        "CreatedUtc": "2016-02-20T14:58:02Z",
                        "UpdatedUtc": "2016-02-20T14:58:02Z",
                        "CancelledUtc": null,
                        "StartUtc": "2016-02-20T13:00:00Z",
                        "EndUtc": "2016-02-22T11:00:00Z",
                        "ReleasedUtc": null,
                        "RequestedCategoryId": "773d5e42-de1e-43a0-9ce6-f940faf2303f",
                        "AssignedResourceId": "20e00c32-d561-4008-8609-82d8aa525714",
                        "AssignedResourceLocked": false,
                        "BusinessSegmentId": null,
                        "CompanyId": null,
                        "TravelAgencyId": null,
                        "AvailabilityBlockId": null,
                        "RateId": "ed4b660b-19d0-434b-9360-a4de2ea42eda",
                        "VoucherId": null,
                        "AdultCount": 2,
                        "ChildCount": 0,
                        "CustomerId": "35d4b117-4e60-44a3-9580-c582117eff98"
                    }
                ],
                "Resources": [
                    {
                        "Id": "7cccbdc6-73cf-4cd4-8056-6fd00f4d9699",
                        "IsActive": true,
                        "ParentResourceId": null,
                        "Name": "210",
                        "State": "Dirty",
                        "Descriptions": {},
                        "CreatedUtc": "2018-09-24T07:56:56Z",
                        "UpdatedUtc": "2021-03-26T03:56:37Z",
                        "Data": {
                            "Discriminator": "Space",
                            "Value": {
                                "FloorNumber": "2",
                                "LocationNotes": ""
                            }
                        }
                    }
                ]
            }
        }
        """;

    /// <summary>Seed 002 (2022-08), the rendered "Request body", verbatim.</summary>
    public const string August2022Created = """
        {
            "Action": "IntegrationCreated",
            "Data": {
                "Enterprise": {
                    "Id": "8865aa96-f62d-4f9b-a912-ab2100f60f42",
                    "Name": "Sample Chain Hotel 1"
                },
                "Service": {
                    "Id": "9745ce3a-8dbb-4cc0-a550-55f9ff67b242",
                    "Name": "Accommodation"
                },
                "Requestor": null,
                "AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
                "CreatedUtc": "2019-12-13T14:42:52Z",
                "IsEnabled": true,
                "Integration": {
                    "Id": "9e5e84e9-974d-4f16-9662-ab2200f27cb1",
                    "Name": "WebhookTEST"
                }
            }
        }
        """;

    /// <summary>Seed 000 (2025-08) and events-wh-integration.md, "Request body", verbatim.</summary>
    public const string August2025Created = """
        {
          "Action": "IntegrationCreated",
          "Data": {
            "Enterprise": {
              "Id": "8865aa96-f62d-4f9b-a912-ab2100f60f42",
              "Name": "Sample Chain Hotel 1"
            },
            "Service": {
              "Id": "9745ce3a-8dbb-4cc0-a550-55f9ff67b242",
              "Name": "Accommodation"
            },
            "Requestor": null,
            "AccessToken": "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
            "CreatedUtc": "2019-12-13T14:42:52Z",
            "IsEnabled": true,
            "Integration": {
              "Id": "9e5e84e9-974d-4f16-9662-ab2200f27cb1",
              "Name": "WebhookTEST"
            }
          }
        }
        """;

    /// <summary>events-wh-general.md (2022-08 and 2025-08), "Request body", verbatim.</summary>
    public const string GeneralMessage = """
        {
          "EnterpriseId": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
          "IntegrationId": "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
          "Events": [
            {
              "Discriminator": "ServiceOrderUpdated",
              "Value": {
                "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d"
              }
            },
            {
              "Discriminator": "ResourceUpdated",
              "Value": {
                "Id": "7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"
              }
            },
            {
              "Discriminator": "MessageAdded",
              "Value": {
                "Id": "4bfe4675-98a9-4428-9ea9-ae5300dbaa93"
              }
            },
            {
              "Discriminator": "CustomerAdded",
              "Value": {
                "Id": "c2f1d888-232e-49eb-87ac-5f75363af13b"
              }
            },
            {
              "Discriminator": "CustomerUpdated",
              "Value": {
                "Id": "b3ce0fd7-a715-4bfc-969e-ef7a4822963c"
              }
            },
            {
              "Discriminator": "PaymentUpdated",
              "Value": {
                "Id": "a41e2d45-71bc-49b4-9a05-a3ac5f75735c"
              }
            }
          ]
        }
        """;

    /// <summary>events-websockets.md, "Message body", verbatim.</summary>
    public const string WebSocketMessage = """
        {
            "Events": [
                {
                    "Type": "DeviceCommand",
                    "Id": "2391a3df-1c61-4131-b6f8-c85b4234adcb",
                    "State": "Pending"
                },
                {
                    "Type": "Reservation",
                    "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d",
                    "State": "Processed",
                    "StartUtc": "2016-02-20T13:00:00Z",
                    "EndUtc": "2016-02-22T11:00:00Z"
                },
                {
                    "Type": "Resource",
                    "Id": "5ee074b1-6c86-48e8-915f-c7aa4702086f",
                    "State": "Dirty"
                },
                {
                    "Type": "PriceUpdate",
                    "Id": "bd75f159-f22a-4685-abdb-aac0008e2af3",
                    "StartUtc": "2019-09-07T22:00:00Z",
                    "EndUtc": "2019-09-07T22:00:00Z",
                    "RateId": "9c6c0556-42bb-409a-86ca-6ca430773b99",
                    "ResourceCategoryId": null
                }
            ]
        }
        """;
}
