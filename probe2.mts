import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import sharp from 'sharp';
const tf:any = (faceapi as any).tf;
await tf.setBackend('wasm'); await tf.ready();
const dir='/work/main/node_modules/@vladmandic/face-api/model';
await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
const D: [string, Float32Array][] = [];
for (const f of process.argv.slice(2)) {
  const {data, info} = await sharp(f).rotate().resize({width:1024,height:1024,fit:'inside',withoutEnlargement:true}).removeAlpha().raw().toBuffer({resolveWithObject:true});
  const x = tf.tensor3d(data,[info.height,info.width,3],'int32');
  const r = await faceapi.detectAllFaces(x, new faceapi.SsdMobilenetv1Options({minConfidence:0.5})).withFaceLandmarks().withFaceDescriptors();
  x.dispose();
  r.forEach((d,i)=>D.push([f.split('/').slice(-2).join('/')+'#'+i, d.descriptor]));
}
const dist=(a,b)=>Math.sqrt(a.reduce((s,v,i)=>s+(v-b[i])**2,0));
for (const [n,a] of D) console.log(n.padEnd(40), D.map(([m,b])=>dist(a,b).toFixed(2)).join(' '));
