import { randomUUID } from 'node:crypto';
import type { ReviewTask } from '@mandate/contracts';
import type { DocumentStore, TenantId } from '@mandate/storage';
import { authoriseReviewer } from './access';
import type { Parties } from './four-eyes';
import type {
  AgentOwnerLookup,
  Clock,
  PolicyRecheckPort,
  Reviewer,
  ReviewerDirectory,
} from './ports';
import { reviewConfig, type ReviewConfig, type ReviewConfigInput } from './review-config';
import { decodeTask, type ReviewTaskDoc } from './review-task.doc';
import { TaskRepository, type TaskState } from './task-repository';

/** What the queue and the decisions need (ports and configuration). */
export interface ReviewDomainDeps {
  readonly tasks: DocumentStore<ReviewTaskDoc>;
  readonly reviewers: ReviewerDirectory;
  /** Who owns an agent (four-eyes excludes them). Omitted: no owner is known. */
  readonly owners?: AgentOwnerLookup;
  /** Who requested the action, when the domain knows it (four-eyes excludes them too). */
  readonly requesterOf?: (task: ReviewTask) => string | undefined;
  /** Policy's re-check; required by `ReviewDecisions`. */
  readonly policy?: PolicyRecheckPort;
  readonly now?: Clock;
  readonly config?: ReviewConfig | ReviewConfigInput;
  /** Ids of decisions and comments the caller did not name. Default: random UUIDs. */
  readonly newId?: () => string;
}

/** Shared plumbing of `ReviewQueue` and `ReviewDecisions`. */
export class ReviewContext {
  readonly repo: TaskRepository;
  readonly config: ReviewConfig;
  readonly now: Clock;
  readonly newId: () => string;

  constructor(readonly deps: ReviewDomainDeps) {
    this.config = reviewConfig(deps.config);
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
    this.repo = new TaskRepository(deps.tasks, this.config, this.now);
  }

  async reviewer(tenant: TenantId, reviewerId: string): Promise<Reviewer> {
    return authoriseReviewer(
      await this.deps.reviewers.reviewer(tenant, reviewerId),
      reviewerId,
      tenant,
    );
  }

  async parties(tenant: TenantId, state: TaskState): Promise<Parties> {
    const task = decodeTask(state);
    const ownerId = state.agentId
      ? await this.deps.owners?.ownerOf(state.agentId, tenant)
      : undefined;
    return {
      agentId: state.agentId,
      ownerId,
      requesterId: this.deps.requesterOf?.(task) ?? undefined,
    };
  }
}
