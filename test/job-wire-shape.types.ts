/**
 * The job's wire shape is defined once: the server's TypeBox `JobSchema` (the server's `JobView`
 * is its static type). The client keeps a zero-dependency copy, `Job`, and so for the body of
 * `POST /v1/jobs`. The assertions below compile only while each copy equals its schema in every
 * field's name, type and optionality; otherwise the error names the fields that differ. They are
 * compiled by `npm run typecheck` and by `job-wire-shape.test.ts` under `npm test`: a change to
 * the job's shape goes into the schema and the client's type in the same commit.
 */
import type { CreateJobInput, Job } from '@jobwait/client';
import type { Static } from 'typebox';
import type { CreateJobBody, JobSchema } from '../packages/server/src/routes/schemas.js';

/** True when A and B are the same type, not merely assignable to each other. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The fields whose name, type or optionality differ between A and B: `never` when none do. */
type Differences<A, B> =
  | Exclude<keyof A, keyof B>
  | Exclude<keyof B, keyof A>
  | { [K in keyof A & keyof B]-?: Equal<Pick<A, K>, Pick<B, K>> extends true ? never : K }[keyof A & keyof B];

/** `true` when there are no differences; otherwise a type whose text lists them. */
type Agrees<D> = [D] extends [never] ? true : `these fields differ from the schema: ${D & string}`;

/** The client's `Job` against the server's `JobSchema`. */
export const jobAgrees: Agrees<Differences<Job, Static<typeof JobSchema>>> = true;

/** The client's `CreateJobInput` against the server's `CreateJobBody`. */
export const createJobInputAgrees: Agrees<Differences<CreateJobInput, Static<typeof CreateJobBody>>> = true;
