import { status } from '@grpc/grpc-js';
import {
  GetReviewTaskRequest,
  GetReviewTaskResponse,
  ListReviewTasksRequest,
  ListReviewTasksResponse,
  ReviewServiceService,
  ReviewTask,
} from '@mandate/contracts';
import type { ReviewTaskDoc } from '@mandate/review-domain';
import { isTenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost, type OutboxStore } from '@mandate/platform';

const decode = (doc: ReviewTaskDoc) => ReviewTask.decode(Buffer.from(doc.task, 'base64'));

export function registerReviewGrpc(host: GrpcServerHost, store: OutboxStore<ReviewTaskDoc>): void {
  host.addUnaryService(ReviewServiceService, {
    getReviewTask: async (raw) => {
      const req = raw as GetReviewTaskRequest;
      if (!isTenantId(req.tenantId))
        throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
      const doc = await store.get(req.tenantId, req.taskId);
      if (!doc) throw new GrpcError(status.NOT_FOUND, `review task ${req.taskId} not found`);
      return GetReviewTaskResponse.fromPartial({ task: decode(doc) });
    },
    listReviewTasks: async (raw) => {
      const req = raw as ListReviewTasksRequest;
      if (!isTenantId(req.tenantId))
        throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
      const limit = Math.min(Math.max(req.pageSize || 50, 1), 500);
      const docs = await store.find(req.tenantId, {}, { sort: { dueAt: 1 }, limit });
      return ListReviewTasksResponse.fromPartial({ tasks: docs.map(decode) });
    },
  });
}
