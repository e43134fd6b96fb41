-- Rows a platform wrote (a key, a function with its deployment and activation, an execution),
-- for the upgrade test: loaded into a database made from schema-r1.sql. The key's secret:
-- key: standard_59d9a921ed8472b887a3554064323c4dd5a1cda209d9fc0ff25a93bd36325ccb
INSERT INTO "api_keys" VALUES(1,'6b117cff2135000b185f','default','','fa2ffd3b62bc19a8df92c1fdacf210c325b6d30e9a8c5ec48e1de85adf9dae55','5ccb','["functions.read", "executions.read"]','2026-12-03T14:30:23.136+00:00','');
INSERT INTO "deployments" VALUES(1,'6b117cff33f57111f024','default','ex-26068-1-942062','2026-12-03T14:30:23.212+00:00','2026-12-03T14:30:25.168+00:00','manual','http_functions.py','',1586,12631,14217,1,'ready','[14:30:23] Build of deployment 6b117cff33f57111f024 started
[14:30:23] Extracting source.tar.gz (1586 bytes)
[14:30:23] Extracted 3861 bytes
[14:30:23] Byte-compiling
[14:30:23] Loading http_functions.py in a separate process
  /_functions/big  USE
  /_functions/block  USE
  /_functions/crash  USE
  /_functions/echo  USE
  /_functions/fail  USE
  /_functions/forge  USE
  /_functions/keep  USE
  /_functions/mark  USE
  /_functions/schedule  POST
  /_functions/sleep  USE
  /_functions/stdio  USE
  /_functions/talk  USE
  /_functions/threadtalk  USE
[14:30:25] Build succeeded
',2,1,1,'[{"name": "big", "methods": ["USE"]}, {"name": "block", "methods": ["USE"]}, {"name": "crash", "methods": ["USE"]}, {"name": "echo", "methods": ["USE"]}, {"name": "fail", "methods": ["USE"]}, {"name": "forge", "methods": ["USE"]}, {"name": "keep", "methods": ["USE"]}, {"name": "mark", "methods": ["USE"]}, {"name": "schedule", "methods": ["POST"]}, {"name": "sleep", "methods": ["USE"]}, {"name": "stdio", "methods": ["USE"]}, {"name": "talk", "methods": ["USE"]}, {"name": "threadtalk", "methods": ["USE"]}]');
INSERT INTO "executions" VALUES(1,'6b117d0147003645a1ae','default','ex-26068-1-942062','6b117cff33f57111f024','2026-12-03T14:30:25.290+00:00','2026-12-03T14:30:25.829+00:00','http','completed','POST','/','[{"name": "x-appwrite-client-ip", "value": "127.0.0.1"}]',404,'[{"name": "content-type", "value": "application/json"}, {"name": "content-length", "value": "122"}]','','',6.6e-05,NULL,'null',NULL);
INSERT INTO "functions" VALUES(1,'default','ex-26068-1-942062','2026-12-03T14:30:23.190+00:00','2026-12-03T14:30:25.168+00:00','ex-26068-1-942062','python-3.11','["any"]','[]','',15,1,1,'','','[]',1,'6b117cff33f57111f024','2026-12-03T14:30:23.212+00:00','6b117cff33f57111f024','2026-12-03T14:30:23.212+00:00','ready','{"description": "", "installationId": "", "providerRepositoryId": "", "providerBranch": "", "providerSilentMode": false, "providerRootDirectory": "", "providerBranches": [], "providerPaths": [], "buildSpecification": "s-1vcpu-512mb", "runtimeSpecification": "s-1vcpu-512mb", "deploymentRetention": 0}');
