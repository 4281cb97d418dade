/**
 * A failure of an outside system, worded for the operator who must act on it
 * ("supervisord at 127.0.0.1:9001 refused the connection"). Its message is shown in Slack;
 * it must never hold a secret.
 */
export class IntegrationError extends Error {
  constructor(
    message: string,
    readonly options: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IntegrationError';
  }
}

export const isIntegrationError = (error: unknown): error is IntegrationError => error instanceof IntegrationError;
