// Background jobs: each job's last run and outcome, then the recent runs.
import { api } from '../api';
import { Loading, Notice, pick, show, Table, Time, useLoad } from '../ui';

function Outcome({ value }: { value: unknown }) {
  const text = show(value);
  const bad = /fail|error/i.test(text);
  return <span class={`badge ${bad ? 'badge-revoked' : text === '—' ? '' : 'badge-active'}`}>{text}</span>;
}

export function JobsPage() {
  const jobs = useLoad(() => api.jobs.list(), []);
  const runs = useLoad(() => api.jobs.runs(), []);
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Jobs</h1>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            jobs.reload();
            runs.reload();
          }}
        >
          Refresh
        </button>
      </div>
      <Notice error={jobs.error} what="The job list" />
      <Loading loading={jobs.loading && !jobs.data} />
      {jobs.data ? (
        <Table
          caption="Jobs and their last run"
          head={['Job', 'Every', 'Last started', 'Finished', 'Outcome', 'Items', 'Error']}
          empty={jobs.data.length === 0}
        >
          {jobs.data.map((job) => {
            const last = (pick(job, 'last_run') as Record<string, unknown> | undefined) ?? job;
            const interval = pick(job, 'interval_ms');
            return (
              <tr key={show(pick(job, 'name', 'job'))}>
                <td class="mono">{show(pick(job, 'name', 'job'))}</td>
                <td>{typeof interval === 'number' ? `${Math.round(interval / 1000)} s` : show(pick(job, 'interval', 'schedule'))}</td>
                <td>
                  <Time iso={pick(last, 'started_at', 'last_started_at', 'ran_at')} />
                </td>
                <td>
                  <Time iso={pick(last, 'finished_at', 'last_finished_at')} />
                </td>
                <td>
                  <Outcome value={pick(last, 'outcome', 'status', 'last_outcome', 'last_status')} />
                </td>
                <td>{show(pick(last, 'items', 'handled', 'count'))}</td>
                <td class="small wrap">{show(pick(last, 'error', 'last_error'))}</td>
              </tr>
            );
          })}
        </Table>
      ) : null}
      {jobs.data || !jobs.error ? (
        <>
          <h2>Recent runs</h2>
          <Notice error={runs.error} what="The job run history" />
          {runs.data ? (
            <Table caption="Recent job runs" head={['Job', 'Started', 'Finished', 'Outcome', 'Items', 'Node', 'Error']} empty={runs.data.length === 0}>
              {runs.data.slice(0, 100).map((run, index) => (
                <tr key={show(pick(run, 'id')) + index}>
                  <td class="mono">{show(pick(run, 'job', 'name', 'job_name'))}</td>
                  <td>
                    <Time iso={pick(run, 'started_at')} />
                  </td>
                  <td>
                    <Time iso={pick(run, 'finished_at')} />
                  </td>
                  <td>
                    <Outcome value={pick(run, 'outcome', 'status')} />
                  </td>
                  <td>{show(pick(run, 'items', 'handled', 'count'))}</td>
                  <td class="small">{show(pick(run, 'node', 'node_id', 'host'))}</td>
                  <td class="small wrap">{show(pick(run, 'error'))}</td>
                </tr>
              ))}
            </Table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
