/**
 * A simulated video translation service — the kind of pipeline jobwait's ingest is for. It knows
 * nothing of jobwait's HTTP API: it publishes what happens to each video on the RabbitMQ queue it
 * already has, as messages of schemas/ingest-message.schema.json, keyed by its own video id
 * (`externalId`), and finishes each with the URL of the translated video.
 */
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';

/** A video to translate. */
export interface Video {
  /** The pipeline's own id: jobwait creates the job on the first message naming it. */
  id: string;
  title: string;
  /** Target language. */
  language: string;
  /** Simulated work, in seconds. */
  seconds: number;
  /** Fail instead of finishing (a speech service outage, say). */
  fail?: boolean;
}

/** Who hears about a video's end: passed with the first message, so the job is created with them. */
export interface Listeners {
  callbackUrl?: string;
  notifyEmail?: string;
}

const STAGES = ['extracting audio', 'transcribing', 'translating subtitles', 'synthesizing voice', 'muxing video'] as const;

/** Publishes the life of videos on one queue. */
export class TranslationService {
  private readonly seq = new Map<string, number>();

  constructor(
    private readonly channel: ConfirmChannel,
    private readonly queue: string,
    private readonly tenant = 'public',
  ) {}

  /** Translates `video`: started, progress through each stage, then completed with a result URL (or failed). */
  async translate(video: Video, listeners: Listeners = {}): Promise<void> {
    await this.publish(video, {
      event: 'started',
      message: `queued: ${video.title} → ${video.language}`,
      etaSeconds: video.seconds,
      job: { metadata: { title: video.title, language: video.language }, heartbeatTimeoutSeconds: 30, ...listeners },
    });
    const steps = STAGES.length;
    for (let step = 0; step < steps; step++) {
      await sleep((video.seconds * 1000) / (steps + 1));
      if (video.fail && step === 2) {
        await this.publish(video, { event: 'failed', error: { code: 'TTS_UNAVAILABLE', message: 'the speech synthesis service did not answer' } });
        return;
      }
      await this.publish(video, {
        event: 'progress',
        progress: Math.round(((step + 1) / (steps + 1)) * 100) / 100,
        message: STAGES[step]!,
        etaSeconds: (video.seconds * (steps - step)) / (steps + 1),
      });
    }
    await sleep((video.seconds * 1000) / (steps + 1));
    await this.publish(video, { event: 'completed', result: { url: `https://cdn.example.com/videos/${video.id}.${video.language}.mp4`, language: video.language } });
  }

  private async publish(video: Video, fields: Record<string, unknown>): Promise<void> {
    const seq = (this.seq.get(video.id) ?? 0) + 1;
    this.seq.set(video.id, seq);
    const message = { messageId: randomUUID(), tenant: this.tenant, externalId: video.id, seq, at: new Date().toISOString(), ...fields };
    this.channel.sendToQueue(this.queue, Buffer.from(JSON.stringify(message)), { persistent: true, contentType: 'application/json' });
    await this.channel.waitForConfirms();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
