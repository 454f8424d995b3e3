// `tokens revoke <personId|email>`: ends every session of a person at once — access and
// refresh tokens, on every gateway (`people.revokeTokensOf`) — for a lost device or a
// leaked token. Their open live sockets end at their next token check.
import type { ServiceBroker } from 'moleculer';
import { CommandError, callAction, type OperatorCommand } from './command.ts';
import { fields } from './table.ts';

export const tokensCommand: OperatorCommand = {
  name: 'tokens',
  args: ['verb', 'personIdOrEmail'],
  description: 'tokens revoke <person>: end every session of a person (all their tokens, every gateway)',
  async run(broker: ServiceBroker, { verb, personIdOrEmail }) {
    if (verb !== 'revoke') throw new CommandError(`unknown verb "${verb}"; usage: tokens revoke <personId|email>`);
    const query = personIdOrEmail.includes('@') ? { email: personIdOrEmail.toLowerCase() } : { personId: personIdOrEmail };
    const person = await callAction<{ id: string; displayName: string } | null>(broker, 'people.resolve', query);
    if (!person) throw new CommandError(`no person ${personIdOrEmail}.`);
    const result = await callAction<{ revoked: boolean }>(broker, 'people.revokeTokensOf', { personId: person.id });
    if (!result.revoked) throw new CommandError(`no person ${personIdOrEmail}.`);
    return fields([['person', person.id], ['name', person.displayName], ['revoked', 'every access and refresh token']]);
  },
};
