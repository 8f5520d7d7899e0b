# Server CPU per 1,000 points ingested: 600 log-batch requests of 1,000
# points (4 runs, 10 metrics x 100 steps each) from one client, and the
# server's user+system CPU time from /proc/<pid>/stat across them. Less
# noisy than points/s on a shared 2-core machine: it counts the server's
# work, not how the client and the server were scheduled.
# Usage: python3 bench/ingest_cpu.py PORT PID   (a fresh server, release build)
import http.client, json, time, sys, os
port=int(sys.argv[1]); pid=int(sys.argv[2])
c=http.client.HTTPConnection('127.0.0.1', port)
def post(p,b):
    c.request('POST','/api/2.0/mlflow/'+p,b if isinstance(b,(bytes,str)) else json.dumps(b),{'Content-Type':'application/json'}); r=c.getresponse(); d=r.read(); assert r.status==200, d; return json.loads(d)
e=post('experiments/create', {'name':'st%f'%time.time()})['experiment_id']
runs=[post('runs/create', {'experiment_id':e})['run']['info']['run_id'] for _ in range(4)]
bodies=[]
for r in range(150):
    for run in runs:
        ms=[{'key':'k%d'%k,'value':s*0.5+k,'timestamp':1000+s,'step':s} for s in range(r*100, r*100+100) for k in range(10)]
        bodies.append(json.dumps({'run_id':run,'metrics':ms}))
def cpu():
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().split(")")[1].split()
    return int(f[11])+int(f[12])
c0=cpu(); t=time.time()
for b in bodies: post('runs/log-batch', b)
c1=cpu(); dt=time.time()-t
pts=len(bodies)*1000
tick_ms = 1000 / os.sysconf('SC_CLK_TCK')
print('server cpu per 1k points: %.3f ms; wall %.1f s' % ((c1 - c0) * tick_ms / (pts / 1000), dt))
