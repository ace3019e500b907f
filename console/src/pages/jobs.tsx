// Background jobs: each job's last run and outcome, then the recent runs.
import { api } from '../api';
import { Loading, Notice, show, Table, Time, useLoad } from '../ui';

function Outcome({ value }: { value: unknown }) {
  const text = show(value);
  const bad = /fail|error/i.test(text);
  return <span class={`badge ${bad ? 'badge-revoked' : text === '—' ? '' : 'badge-active'}`}>{text}</span>;
}

function seconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

export function JobsPage() {
  const jobs = useLoad(() => api.jobs.list(), []);
  const runs = useLoad(() => api.jobs.runs({ per_page: 50 }), []);
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
        <Table caption="Jobs and their last run" head={['Job', 'Every', 'Last started', 'Took', 'Outcome', 'Items', 'Error']} empty={jobs.data.length === 0}>
          {jobs.data.map((job) => {
            const last = job.last_run;
            return (
              <tr key={job.job} data-job={job.job}>
                <td class="mono">{job.job}</td>
                <td>{seconds(job.interval_ms)}</td>
                <td>
                  <Time iso={last?.started_at} />
                </td>
                <td>{last ? `${last.duration_ms} ms` : '—'}</td>
                <td>{last ? <Outcome value={last.outcome} /> : <span class="muted">never run</span>}</td>
                <td>{show(last?.items)}</td>
                <td class="small wrap">{show(last?.error)}</td>
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
            <Table caption="Recent job runs" head={['Job', 'Started', 'Took', 'Outcome', 'Items', 'Node', 'Error']} empty={runs.data.data.length === 0}>
              {runs.data.data.map((run) => (
                <tr key={run.id} data-run={run.id}>
                  <td class="mono">{run.job}</td>
                  <td>
                    <Time iso={run.started_at} />
                  </td>
                  <td>{run.duration_ms} ms</td>
                  <td>
                    <Outcome value={run.outcome} />
                  </td>
                  <td>{run.items}</td>
                  <td class="small">{run.node_id}</td>
                  <td class="small wrap">{show(run.error)}</td>
                </tr>
              ))}
            </Table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
