// Tenants: search, page through, and create (creation provisions the vaulted SMTP account).
import { useState } from 'preact/hooks';
import { api, type CreatedTenant } from '../api';
import { href, navigate, type Route } from '../router';
import { Dialog, Loading, Notice, Pager, type Submit, Success, Table, Time, formValue, useLoad, useSubmission } from '../ui';

const PER_PAGE = 20;

function CreateTenant({ onClose, onCreated }: { onClose: () => void; onCreated: (tenant: CreatedTenant) => void }) {
  const { busy, error, run } = useSubmission();
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const domain = formValue(form, 'domain');
    const webmail = formValue(form, 'webmail_url');
    const smtpUsername = formValue(form, 'smtp_username');
    await run(async () => {
      const tenant = await api.tenants.create({
        name: formValue(form, 'name'),
        ...(domain ? { domain } : {}),
        ...(webmail ? { webmail_url: webmail } : {}),
        ...(smtpUsername ? { smtp_username: smtpUsername } : {}),
      });
      onCreated(tenant);
    });
  }
  return (
    <Dialog title="Create a tenant" onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <Notice error={error} />
        <label>
          Name
          <input name="name" required maxLength={200} />
        </label>
        <label>
          Domain <span class="muted">(optional)</span>
          <input name="domain" placeholder="example.com" />
        </label>
        <label>
          Webmail URL <span class="muted">(optional)</span>
          <input name="webmail_url" type="url" placeholder="https://mail.example.com" />
        </label>
        <label>
          SMTP account username <span class="muted">(optional; default admin@domain)</span>
          <input name="smtp_username" type="email" />
        </label>
        <div class="row">
          <button type="submit" disabled={busy}>
            Create tenant
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function TenantsPage({ route }: { route: Route }) {
  const search = route.query.get('search') ?? '';
  const page = Math.max(1, Number(route.query.get('page') ?? '1') || 1);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedTenant | null>(null);
  const list = useLoad(() => api.tenants.list({ search: search || undefined, page, per_page: PER_PAGE }), [search, page]);

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Tenants</h1>
        <button type="button" onClick={() => setCreating(true)}>
          Create tenant
        </button>
      </div>
      <form
        class="row"
        aria-label="Tenant search"
        onSubmit={(event: Submit) => {
          event.preventDefault();
          navigate('/tenants', { search: formValue(event.currentTarget, 'search') || undefined });
        }}
      >
        <label class="grow">
          Search tenants
          <input name="search" type="search" defaultValue={search} placeholder="name or domain" />
        </label>
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      {created ? (
        <Success>
          Tenant {created.name} created; its vaulted SMTP account is {created.smtp_username}.{' '}
          <a href={href(`/tenants/${created.id}/settings`)}>Open {created.name}</a>
        </Success>
      ) : null}
      <Notice error={list.error} what="The tenant list" />
      <Loading loading={list.loading && !list.data} />
      {list.data ? (
        <>
          <Table caption="Tenants" head={['Name', 'Domain', 'Webmail', 'Created']} empty={list.data.data.length === 0}>
            {list.data.data.map((tenant) => (
              <tr key={tenant.id}>
                <td>
                  <a href={href(`/tenants/${tenant.id}/settings`)}>{tenant.name}</a>
                </td>
                <td>{tenant.domain ?? '—'}</td>
                <td class="wrap">{tenant.webmail_url ?? '—'}</td>
                <td>
                  <Time iso={tenant.created_at} />
                </td>
              </tr>
            ))}
          </Table>
          <Pager
            page={list.data.pagination.page}
            perPage={list.data.pagination.per_page}
            total={list.data.pagination.total}
            go={(next) => navigate('/tenants', { search: search || undefined, page: next })}
          />
        </>
      ) : null}
      {creating ? (
        <CreateTenant
          onClose={() => setCreating(false)}
          onCreated={(tenant) => {
            setCreating(false);
            setCreated(tenant);
            list.reload();
          }}
        />
      ) : null}
    </section>
  );
}
