/** Ids and times the examples of the OpenAPI share, so that one example's references meet another's. */
export const EXAMPLE = {
  workspaceId: '01907c4d-8f00-7d11-a2b3-c4d5e6f7a801',
  userId: '01907c4e-2f1a-7b3c-8d4e-5f6a7b8c9d01',
  otherUserId: '01907c4e-2f1a-7b3c-8d4e-5f6a7b8c9d02',
  roleId: '01907c4d-9a10-7e21-b3c4-d5e6f7a8b901',
  defaultRoleId: '01907c4d-9a10-7e21-b3c4-d5e6f7a8b900',
  locationId: '01907c4d-9b20-7f31-a4c5-e6f7a8b9c001',
  importId: '01907c50-1c2d-7e3f-9a4b-5c6d7e8f9a01',
  resendId: '01907c52-3e4f-7a5b-8c6d-7e8f9a0b1c01',
  auditId: '01907c53-4f5a-7b6c-9d7e-8f9a0b1c2d01',
  webhookId: '01907c54-5a6b-7c7d-8e8f-9a0b1c2d3e01',
  deliveryId: '01907c55-6b7c-7d8e-9f0a-1b2c3d4e5f01',
  created: '2025-03-03T09:12:45.120Z',
  updated: '2025-03-04T16:02:11.508Z',
  expires: '2025-03-10T09:12:45.120Z',
} as const;
