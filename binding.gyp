{
  "targets": [
    {
      "target_name": "berth_sys",
      "sources": ["src/native/sys.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
