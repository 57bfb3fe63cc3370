const b = require('chromadb-js-bindings-linux-x64-gnu/chromadb-js-bindings.linux-x64-gnu.node');
b.cli(["chroma","run","--path",process.argv[2],"--port",process.argv[3],"--host","127.0.0.1"]);
console.log("cli returned");
