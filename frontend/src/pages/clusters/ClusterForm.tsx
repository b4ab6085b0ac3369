import { useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { clustersApi } from "../../api/clusters";

/** #/clusters/new and #/clusters/<id>/edit: a cluster's name and bootstrap servers, the API's refusals next to each. */
export function ClusterForm({ id }: { id: number | null }) {
  const [name, setName] = useState("");
  const [servers, setServers] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (id === null) return;
    clustersApi.get(id).then((c) => { setName(c.name); setServers(c.bootstrap_servers.join("\n")); })
      .catch((e: ApiError) => setError(e.message));
  }, [id]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setError("");
    setBusy(true);
    const input = { name: name.trim(), bootstrap_servers: servers.split(/[\s,]+/).filter(Boolean) };
    try {
      const saved = id === null ? await clustersApi.create(input) : await clustersApi.update(id, input);
      window.location.hash = `#/clusters/${saved.id}`;
    } catch (err) {
      if (err instanceof ApiError && err.field) {
        // bootstrap_servers[2] is about the third line: shown under the servers, naming it.
        const m = /^bootstrap_servers\[(\d+)\]$/.exec(err.field);
        if (m) setErrors({ bootstrap_servers: `${input.bootstrap_servers[Number(m[1])]}: ${err.message}` });
        else setErrors({ [err.field]: err.message });
      } else {
        setError(err instanceof ApiError ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <p><a href={id === null ? "#/clusters" : `#/clusters/${id}`}>← {id === null ? "Clusters" : "Back to the cluster"}</a></p>
      <h2>{id === null ? "Register a Kafka cluster" : `Edit cluster ${name}`}</h2>
      <form className="form" onSubmit={submit} data-testid="cluster-form" noValidate>
        <label>Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="production" autoFocus />
        </label>
        {errors.name && <div className="error" data-testid="error-name">{errors.name}</div>}
        <label>Bootstrap servers <span className="muted">(host:port, one a line)</span>
          <textarea name="bootstrap_servers" rows={3} value={servers} onChange={(e) => setServers(e.target.value)}
            placeholder={"kafka-1:9092\nkafka-2:9092"} />
        </label>
        {errors.bootstrap_servers && <div className="error" data-testid="error-bootstrap_servers">{errors.bootstrap_servers}</div>}
        <div>
          <button className="primary" type="submit" disabled={busy}>{id === null ? "Register" : "Save"}</button>
        </div>
        {error && <div className="error" role="alert">{error}</div>}
      </form>
    </div>
  );
}
