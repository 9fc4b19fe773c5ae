import { ResponseError } from 'vscode-jsonrpc';
import { QmError, isQmError, type QmErrorCode } from '../errors';

/** JSON-RPC error code for QmErrors: the QmError code travels in `data`. */
const QM_ERROR = -32001;

export function toResponseError(error: unknown): ResponseError<{ code: string }> {
  const code = isQmError(error) ? error.code : 'EIO';
  const message = error instanceof Error ? error.message : String(error);
  return new ResponseError(QM_ERROR, message, { code });
}

/** Turns an error answered by the coordinator back into the QmError it was. */
export function fromResponseError(error: unknown): QmError {
  if (error instanceof ResponseError) {
    const data = error.data as { code?: string } | undefined;
    const code = (typeof data?.code === 'string' ? data.code : 'ECOORDINATOR') as QmErrorCode;
    return new QmError(code, error.message);
  }
  if (isQmError(error)) return error;
  return new QmError('ECOORDINATOR', `The coordinator connection failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
