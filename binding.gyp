{
  "targets": [
    {
      "target_name": "berth_sys",
      "sources": ["src/native/sys.c"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "berth-monitor",
      "type": "executable",
      "sources": ["src/monitor/berth-monitor.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
