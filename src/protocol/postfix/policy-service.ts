// The Postfix policy listener wired to the sending policy: attributes in, action out.
import type { SendingDecision, SendingPolicy } from '../../domain/sending-policy.js';
import type { PolicyAnswer, PolicyRequest } from './policy-listener.js';

export function toAnswer(decision: SendingDecision): PolicyAnswer {
  if (decision.verdict === 'allow') return { action: 'DUNNO' };
  if (decision.verdict === 'reject') return { action: 'REJECT', status: '5.7.1', reason: decision.reason };
  return { action: 'DEFER_IF_PERMIT', status: '4.7.1', reason: decision.reason };
}

/** Decides one Postfix policy request (only the attributes relaykey reads; message contents never come here). */
export function policyDecider(policy: SendingPolicy): (request: PolicyRequest) => Promise<PolicyAnswer> {
  return async (request) => {
    const count = Number(request.get('recipient_count') ?? '0');
    const decision = await policy.decide({
      identity: request.get('sasl_username') ?? '',
      sender: request.get('sender') ?? '',
      recipient: request.get('recipient') ?? '',
      recipientCount: Number.isSafeInteger(count) && count > 0 ? count : 0,
      clientAddress: request.get('client_address') || null,
      state: (request.get('protocol_state') ?? '').toUpperCase(),
      instance: request.get('instance') ?? '',
    });
    return toAnswer(decision);
  };
}
