// The cells every token table ends with (tenant tokens and verifier tokens): created, last use,
// state, and a Revoke button while the token is live.
import { Time } from '../ui';

interface TokenLife {
  created_at: string;
  last_used_at?: string | null;
  revoked_at?: string | null;
}

export function TokenLifeCells({ token, onRevoke }: { token: TokenLife; onRevoke: () => void }) {
  return (
    <>
      <td>
        <Time iso={token.created_at} />
      </td>
      <td data-testid="last-used">
        <Time iso={token.last_used_at} />
      </td>
      <td>{token.revoked_at ? <span class="badge badge-revoked">revoked</span> : <span class="badge badge-active">active</span>}</td>
      <td>
        {token.revoked_at ? null : (
          <button type="button" class="small danger" onClick={onRevoke}>
            Revoke
          </button>
        )}
      </td>
    </>
  );
}
